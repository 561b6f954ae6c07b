import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the engine's JSON logger (pino) at the given level; `destination` defaults to stdout. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'tot-engine' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.password', '*.token', '*.authorization'], censor: '***' },
  };
  return destination ? pino(options, destination) : pino(options);
}
