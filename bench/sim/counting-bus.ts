/**
 * The in-process bus with a count of what was published per topic: the simulation reports how many domain events
 * went out without subscribing (a subscriber would deliver on its own schedule and make the count depend on timing).
 */
import type {
  BatchHandler,
  Bus,
  OutgoingMessage,
  PartState,
  SubscribeOptions,
  Subscription,
} from '../../engine/bus.ts';
import { InProcessBus } from '../../engine/in-process-bus.ts';

/** An {@link InProcessBus} that counts published messages per topic. */
export class CountingBus implements Bus {
  readonly kind = 'in-process';
  /** Messages published so far, by topic. */
  readonly published = new Map<string, number>();
  private readonly inner = new InProcessBus();

  async ensureTopics(topics: readonly string[]): Promise<void> {
    await this.inner.ensureTopics(topics);
  }

  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.published.set(topic, (this.published.get(topic) ?? 0) + messages.length);
    await this.inner.publish(topic, messages);
  }

  async subscribe(
    topics: readonly string[],
    handler: BatchHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    return this.inner.subscribe(topics, handler, options);
  }

  state(): PartState {
    return this.inner.state();
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
