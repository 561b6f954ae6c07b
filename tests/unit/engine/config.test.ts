import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../engine/config.ts';
import { TotError } from '../../../geo/errors.ts';

function configError(environment: NodeJS.ProcessEnv): TotError {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof TotError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('selects the embedded parts when no service URL is set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8000);
    expect(config.KAFKA_BROKERS).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.SIMULATOR).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).DATABASE_URL).toBeUndefined();
  });

  it('selects the real services when their URLs are set', () => {
    const config = loadConfig({
      KAFKA_BROKERS: '127.0.0.1:29092,localhost:9093',
      DATABASE_URL: 'postgres://tot:tot@127.0.0.1:25432/tot',
      REDIS_URL: 'redis://127.0.0.1:26379',
    });
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:29092', 'localhost:9093']);
    expect(config.DATABASE_URL).toBe('postgres://tot:tot@127.0.0.1:25432/tot');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:26379');
  });

  it('rejects PORT=abc naming the variable', () => {
    const error = configError({ PORT: 'abc' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('PORT="abc"');
    expect(error.message).toContain('whole number');
  });

  it('rejects an out-of-range port', () => {
    expect(configError({ PORT: '70000' }).message).toContain('PORT="70000": must be ≤ 65535');
  });

  it('rejects a malformed DATABASE_URL naming the variable, without leaking a password', () => {
    const error = configError({ DATABASE_URL: 'mysql://user:secret@host/db' });
    expect(error.message).toContain('DATABASE_URL=');
    expect(error.message).toContain('postgres://');
    expect(error.message).not.toContain('secret');
    expect(configError({ DATABASE_URL: 'not a url' }).message).toContain('DATABASE_URL="not a url"');
  });

  it('rejects malformed KAFKA_BROKERS and REDIS_URL', () => {
    expect(configError({ KAFKA_BROKERS: 'localhost' }).message).toContain('KAFKA_BROKERS');
    expect(configError({ REDIS_URL: 'http://x' }).message).toContain('REDIS_URL');
  });

  it('reads KAFKA_PARTITIONS and KAFKA_RETENTION_MS, defaulting to 6 partitions and the broker retention', () => {
    const defaults = loadConfig({});
    expect(defaults.KAFKA_PARTITIONS).toBe(6);
    expect(defaults.KAFKA_RETENTION_MS).toBeUndefined();
    const set = loadConfig({ KAFKA_PARTITIONS: '12', KAFKA_RETENTION_MS: '604800000' });
    expect(set.KAFKA_PARTITIONS).toBe(12);
    expect(set.KAFKA_RETENTION_MS).toBe(604_800_000);
  });

  it('rejects bad KAFKA_PARTITIONS and KAFKA_RETENTION_MS naming the variable and the value', () => {
    expect(configError({ KAFKA_PARTITIONS: '0' }).message).toContain('KAFKA_PARTITIONS="0": must be ≥ 1');
    expect(configError({ KAFKA_PARTITIONS: '1001' }).message).toContain(
      'KAFKA_PARTITIONS="1001": must be ≤ 1000',
    );
    expect(configError({ KAFKA_PARTITIONS: 'six' }).message).toContain(
      'KAFKA_PARTITIONS="six": must be a whole number',
    );
    expect(configError({ KAFKA_RETENTION_MS: '59999' }).message).toContain(
      'KAFKA_RETENTION_MS="59999": must be ≥ 60000',
    );
    expect(configError({ KAFKA_RETENTION_MS: '-1' }).message).toContain('KAFKA_RETENTION_MS="-1"');
  });

  it('reports every bad variable at once', () => {
    const error = configError({ PORT: 'x', LOG_LEVEL: 'loud', SIMULATOR: 'maybe' });
    const variables = (error.details['problems'] as { variable: string }[]).map((p) => p.variable).sort();
    expect(variables).toEqual(['LOG_LEVEL', 'PORT', 'SIMULATOR']);
  });
});
