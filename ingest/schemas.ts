/**
 * The wire schemas of the streams. They are defined in engine/stream-schemas.ts, where the phone gateway (api/) can
 * import them too; ingest/ keeps this module so that its own imports read as before.
 */
export {
  fixSchema,
  readingSchema,
  TIMESTAMP_WINDOW,
  type FixMessage,
  type ReadingMessage,
} from '../engine/stream-schemas.ts';
