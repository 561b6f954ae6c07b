/**
 * Entry of `npm run bench`: runs bench/NAME.bench.ts files.
 *
 *   npm run bench                                   every benchmark, default sizes, a table
 *   npm run bench -- nearby upsert --json           the named ones, one JSON object per line on stdout
 *   npm run bench -- nearby --sizes 100000,1000000 --seconds 5 --verify
 *
 * Memory figures need a forced GC, so the runner re-executes itself with --expose-gc when it lacks it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench } from './lib/bench.ts';
import { Reporter, canMeasureMemory } from './lib/harness.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SUFFIX = '.bench.ts';

interface Arguments {
  names: string[];
  json: boolean;
  sizes: number[] | undefined;
  seconds: number;
  verify: boolean;
  help: boolean;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = {
    names: [],
    json: false,
    sizes: undefined,
    seconds: 3,
    verify: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') parsed.json = true;
    else if (arg === '--verify') parsed.verify = true;
    else if (arg === '--help' || arg === '-h') parsed.help = true;
    else if (arg === '--sizes' || arg === '--seconds') {
      const value = argv[++i];
      if (value === undefined) fail(`${arg} needs a value`);
      if (arg === '--sizes') {
        const sizes = value.split(',').map(Number);
        if (sizes.some((n) => !Number.isInteger(n) || n < 1))
          fail(`--sizes must be positive integers, got ${value}`);
        parsed.sizes = sizes;
      } else {
        const seconds = Number(value);
        if (!(seconds > 0)) fail(`--seconds must be a positive number, got ${value}`);
        parsed.seconds = seconds;
      }
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else parsed.names.push(arg);
  }
  return parsed;
}

async function main(): Promise<void> {
  if (!canMeasureMemory()) {
    // Same interpreter and loader flags (tsx), plus --expose-gc.
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: 'inherit' },
    );
    process.exit(child.status ?? 1);
  }
  const args = parseArguments(process.argv.slice(2));
  const available = readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
  if (args.help) {
    for (const name of available) {
      const bench = (await import(pathToFileURL(join(BENCH_DIR, name + SUFFIX)).href)) as { default: Bench };
      console.log(`${name.padEnd(12)} ${bench.default.description}`);
    }
    return;
  }
  const unknown = args.names.filter((name) => !available.includes(name));
  if (unknown.length > 0) fail(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  const selected = args.names.length > 0 ? args.names : available;
  const reporter = new Reporter(args.json);
  for (const name of selected) {
    const bench = (await import(pathToFileURL(join(BENCH_DIR, name + SUFFIX)).href)) as { default: Bench };
    reporter.note(`== ${name}: ${bench.default.description}`);
    await bench.default.run({ reporter, sizes: args.sizes, seconds: args.seconds, verify: args.verify });
  }
  reporter.printTable();
}

await main();
