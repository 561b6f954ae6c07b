/**
 * Deleting the topics a test made on the shared broker. Tests name their topics uniquely so that runs never see each
 * other's records; without deletion every run leaves its topics behind, and a long-lived broker ends up with so many
 * partitions that the tests which create new topics time out.
 */
import { Admin } from '@platformatic/kafka';

/** Which topics to delete: exact names, and every topic whose name starts with one of the prefixes. */
export interface TopicSelection {
  names?: readonly string[];
  /**
   * Name prefixes, e.g. `${TOPIC_PREFIX}.` for every topic an engine started with that TOPIC_PREFIX made. A prefix
   * should end in a separator so that it cannot also match another run's topics.
   */
  prefixes?: readonly string[];
}

/**
 * Deletes the selected topics that exist on the broker and resolves with their names, sorted. Selected names that do
 * not exist (a test that failed before creating them) are skipped, not an error.
 *
 * Call it once every client of these topics is closed: the broker auto-creates a topic that a live producer or
 * consumer asks for, so a deletion racing a client can bring the topic back.
 *
 * @param brokers `host:port` list, as the integration setup's KAFKA_BROKERS (comma-separated) or already split.
 * @throws Error from the admin client when the broker cannot be reached or refuses the deletion.
 */
export async function deleteTopics(
  brokers: string | readonly string[],
  selection: TopicSelection,
): Promise<string[]> {
  const names = new Set(selection.names ?? []);
  const prefixes = selection.prefixes ?? [];
  if (prefixes.some((prefix) => prefix === '')) {
    throw new Error('deleteTopics: an empty prefix would select every topic on the broker');
  }
  const admin = new Admin({
    clientId: 'tot-test-topic-cleanup',
    bootstrapBrokers: typeof brokers === 'string' ? brokers.split(',') : [...brokers],
  });
  try {
    const existing = await admin.listTopics();
    const doomed = existing.filter(
      (topic) => names.has(topic) || prefixes.some((prefix) => topic.startsWith(prefix)),
    );
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
    return doomed;
  } finally {
    await admin.close();
  }
}
