/**
 * Encodes the engine's snapshots on a worker thread, so that the event loop (the API, the dispatcher, the stream
 * consumer) only pays for copying the state, not for packing ~110 bytes per doctor.
 *
 * One snapshot, from the event loop's side:
 * 1. doctor ids the worker lacks are sent ahead, a chunk of slots per event-loop turn (after the first snapshot there
 *    are hardly any: ids are sent once per slot, engine/snapshot-strings.ts), and the buffers the capture copies into
 *    are made ready (kept from the last snapshot; new ones have their memory written a slice per turn);
 * 2. in one synchronous block, the fleet is captured (typed-array copies, engine/fleet-capture.ts) together with the
 *    stream positions and the traffic field, and posted to the worker with the copies' buffers transferred. Nothing
 *    can change between the positions and the state they describe, which is what the commit of those positions after
 *    the save relies on;
 * 3. the worker builds the columns, packs the fleet and the envelope, and transfers the bytes back.
 *
 * A worker that throws, exits, answers with an error or does not answer within `timeoutMs` fails that snapshot (the
 * promise rejects) and is dropped; the next snapshot starts a new one and sends every id again. After {@link close}
 * (the engine stopped) snapshots are encoded in the calling thread: at shutdown the server is down already, and no
 * thread is started for a last snapshot.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SnapshotEnvelope } from './backup.ts';
import type { StreamPositions } from './bus.ts';
import { ID_CHUNK_SLOTS, transferablesOf } from './fleet-capture.ts';
import { CaptureBuffers } from './snapshot-buffers.ts';
import type { Fleet } from './fleet.ts';
import {
  type SnapshotEncodeRequest,
  type SnapshotEncoded,
  type SnapshotResponse,
  encodeSnapshotRequest,
} from './snapshot-protocol.ts';
import { CaptureDictionary, CaptureMirrors } from './snapshot-strings.ts';

/** What is snapshotted: the fleet, and the rest of the envelope at the moment of the fleet's capture. */
export interface SnapshotSubject {
  /** The fleet now (a restore replaces the object). */
  fleet(): Fleet;
  /** Called in the same synchronous block as the fleet's capture. */
  envelopeParts(): { takenAt: number; positions: StreamPositions; traffic: unknown };
}

/** A snapshot ready for a backup: the envelope, and its bytes as encodeEnvelope gives them. */
export interface EncodedSnapshot {
  /** `fleet` is a view into `bytes`. */
  envelope: SnapshotEnvelope;
  bytes: Uint8Array;
}

/** Where the time of the last snapshot went, ms. */
export interface SnapshotTimings {
  /** The longest event-loop turn spent sending ids ahead. */
  idsAheadMs: number;
  /** The synchronous capture: copying the fleet, the positions and the traffic field, and posting them. */
  captureMs: number;
  /** Building the columns and packing, on the worker. */
  encodeMs: number;
}

/** Options of {@link SnapshotEncoder}. */
export interface SnapshotEncoderOptions {
  /** The worker's entry file; default engine/snapshot-worker.ts (.js once compiled). */
  workerUrl?: URL;
  /** A snapshot not answered within this many ms fails and the worker is replaced (default 120 000). */
  timeoutMs?: number;
}

interface PendingJob {
  job: number;
  worker: Worker;
  resolve: (response: SnapshotEncoded) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * A worker entry that loads a TypeScript file through `require`. Under tsx, Node 20 does not apply tsx's ES module
 * hooks to a worker's own modules (a `.ts` entry fails with "Unknown file extension"), while its require hook works:
 * piscina loads the assignment worker the same way (workers/assignment-pool.ts).
 */
const REQUIRE_ENTRY =
  'import { createRequire } from "node:module"; import { workerData } from "node:worker_threads";' +
  ' createRequire(workerData.entry)(workerData.entry);';

/**
 * How to start the worker file `url`: compiled JavaScript as it is; TypeScript through {@link REQUIRE_ENTRY}, with
 * tsx's loader given to the thread when this thread does not run under it (vitest transforms files itself). Only
 * `--import` is passed: V8 flags in a worker's explicit execArgv are refused, inheriting them is allowed.
 */
function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const underTsx = process.execArgv.some((flag) => flag.includes('tsx'));
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(REQUIRE_ENTRY)}`), {
    workerData: { entry: fileURLToPath(url) },
    ...(underTsx ? {} : { execArgv: ['--import', loader] }),
  });
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Encodes snapshots one at a time on its own worker thread (started at the first snapshot). */
export class SnapshotEncoder {
  private readonly workerUrl: URL;
  private readonly timeoutMs: number;
  private readonly mirrors = new CaptureMirrors();
  private readonly buffers = new CaptureBuffers();
  private worker: Worker | undefined;
  private pending: PendingJob | undefined;
  private busy = false;
  private nextJob = 1;
  private closed = false;
  private idsAheadMs = 0;
  private timings: SnapshotTimings | undefined;
  /** Envelope buffers that came from the worker (only those may go back: the inline path's belong to msgpackr). */
  private readonly fromWorker = new WeakSet<ArrayBuffer>();
  private recycled: ArrayBuffer | undefined;

  /** @throws RangeError when timeoutMs is not a positive number. */
  constructor(options: SnapshotEncoderOptions = {}) {
    const typescript = import.meta.url.endsWith('.ts');
    this.workerUrl =
      options.workerUrl ??
      new URL(typescript ? './snapshot-worker.ts' : './snapshot-worker.js', import.meta.url);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw new RangeError(`options.timeoutMs must be a positive number, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
  }

  /** Where the time of the last snapshot encoded on the worker went; undefined before the first. */
  get lastTimings(): SnapshotTimings | undefined {
    return this.timings;
  }

  /** Whether a worker thread is running. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Captures `subject` at one moment and encodes it. Rejects when the worker fails, exits or does not answer in time
   * (the next call starts a new one), and when a snapshot is already being encoded.
   */
  async encode(subject: SnapshotSubject): Promise<EncodedSnapshot> {
    if (this.busy) throw new Error('a snapshot is already being encoded');
    this.busy = true;
    try {
      if (this.closed) {
        const request = requestOf(subject, new CaptureMirrors(), 0);
        return encodedSnapshotOf(request, encodeSnapshotRequest(request, new CaptureDictionary()));
      }
      const worker = await this.sendIdsAhead(subject);
      await this.buffers.prepare(subject.fleet().snapshotSource().captureBytes(), yieldToEventLoop);
      if (this.worker !== worker) throw new Error('the snapshot worker stopped before the capture');
      // From the capture to postMessage: one synchronous block, so the positions describe exactly the state captured.
      const captureStarted = performance.now();
      const request = requestOf(subject, this.mirrors, this.nextJob++, this.buffers);
      const envelopeBuffer = this.recycled;
      this.recycled = undefined;
      if (envelopeBuffer !== undefined) request.envelopeBuffer = envelopeBuffer;
      let captureMs = 0;
      const response = await new Promise<SnapshotEncoded>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            this.fail(worker, new Error(`the snapshot worker did not answer within ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
        this.pending = { job: request.job, worker, resolve, reject, timer };
        // Held while a snapshot is in flight, so that a last one at shutdown is not cut short by the process exiting.
        worker.ref();
        try {
          const transfer = transferablesOf(request.fleet);
          if (envelopeBuffer !== undefined) transfer.push(envelopeBuffer);
          worker.postMessage(request, transfer);
        } catch (error) {
          this.fail(worker, error as Error);
        }
        captureMs = performance.now() - captureStarted;
      });
      this.buffers.give(response.buffers);
      this.fromWorker.add(response.bytes.buffer);
      this.timings = { idsAheadMs: this.idsAheadMs, captureMs, encodeMs: response.encodeMs };
      return encodedSnapshotOf(request, response);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Takes back the memory of a snapshot's bytes once its backup has let go of them (Backup.releasesBytes): the worker
   * writes the next envelope into it. `encoded.bytes` and `encoded.envelope.fleet` must not be used afterwards.
   */
  recycle(encoded: EncodedSnapshot): void {
    const buffer = encoded.bytes.buffer;
    if (buffer instanceof ArrayBuffer && this.fromWorker.has(buffer)) this.recycled = buffer;
  }

  /** Stops the worker; later snapshots are encoded in the calling thread until {@link open}. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    this.fail(worker, new Error('the snapshot encoder was closed'));
    await worker.terminate();
  }

  /** Encodes on a worker again after {@link close}. */
  open(): void {
    this.closed = false;
  }

  /**
   * Starts the worker now rather than at the first snapshot (not after {@link close}). A thread's start — its own
   * isolate, its modules loaded and compiled, at normal priority until it lowers its own — is heavy work: done with
   * the engine's start, it does not land on the first snapshot, taken under full load.
   */
  startWorker(): void {
    if (!this.closed) this.ensureWorker();
  }

  /** Sends the ids the worker lacks, a chunk of slots per event-loop turn; returns the worker. */
  private async sendIdsAhead(subject: SnapshotSubject): Promise<Worker> {
    const worker = this.ensureWorker();
    this.idsAheadMs = 0;
    for (let from = 0; from < subject.fleet().snapshotSource().slotLimit; from += ID_CHUNK_SLOTS) {
      const started = performance.now();
      const ids = subject
        .fleet()
        .snapshotSource()
        .idsAhead(this.mirrors, from, from + ID_CHUNK_SLOTS);
      if (ids.at.length > 0) worker.postMessage({ type: 'ids', ids });
      this.idsAheadMs = Math.max(this.idsAheadMs, performance.now() - started);
      await yieldToEventLoop();
      if (this.worker !== worker) throw new Error('the snapshot worker stopped while ids were sent ahead');
    }
    return worker;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.workerUrl);
    worker.unref();
    worker.on('message', (response: SnapshotResponse) => this.answered(worker, response));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('messageerror', (error) => this.fail(worker, error));
    worker.on('exit', (code) => this.fail(worker, new Error(`the snapshot worker exited with code ${code}`)));
    // A new worker holds no strings yet.
    this.mirrors.reset();
    this.worker = worker;
    return worker;
  }

  private answered(worker: Worker, response: SnapshotResponse): void {
    const pending = this.pending;
    if (pending === undefined || pending.worker !== worker || pending.job !== response.job) return;
    if (!response.ok) {
      const error = new Error(`snapshot not encoded: ${response.error.message}`);
      if (response.error.code !== undefined) Object.assign(error, { code: response.error.code });
      this.fail(worker, error);
      return;
    }
    this.settle(pending);
    pending.resolve(response);
  }

  /** Drops `worker` if it is still the current one, and fails the snapshot in flight on it. */
  private fail(worker: Worker, error: Error): void {
    if (this.worker === worker) {
      this.worker = undefined;
      // What the dropped worker held is lost: the next worker gets every string again.
      this.mirrors.reset();
      void worker.terminate();
    }
    const pending = this.pending;
    if (pending === undefined || pending.worker !== worker) return;
    this.settle(pending);
    pending.reject(error);
  }

  private settle(pending: PendingJob): void {
    clearTimeout(pending.timer);
    this.pending = undefined;
    if (this.worker === pending.worker) pending.worker.unref();
  }
}

/** The fleet's capture and the envelope's other parts, taken in one synchronous block. */
function requestOf(
  subject: SnapshotSubject,
  mirrors: CaptureMirrors,
  job: number,
  buffers?: CaptureBuffers,
): SnapshotEncodeRequest {
  const fleet = subject.fleet().snapshotSource().capture(mirrors, buffers);
  return { type: 'encode', job, ...subject.envelopeParts(), fleet };
}

function encodedSnapshotOf(request: SnapshotEncodeRequest, response: SnapshotEncoded): EncodedSnapshot {
  const { bytes, fleetLength } = response;
  const envelope: SnapshotEnvelope = {
    version: 1,
    takenAt: request.takenAt,
    positions: request.positions,
    // The fleet is the envelope's last field: its bytes end the buffer.
    fleet: bytes.subarray(bytes.byteLength - fleetLength),
    traffic: request.traffic,
  };
  return { envelope, bytes };
}
