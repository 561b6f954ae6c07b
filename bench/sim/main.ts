/**
 * Entry of `npm run sim`: draws the scenario once, runs it with each matcher (batched, then greedy nearest-first) and
 * prints the report — a table, or with --json one JSON object per line.
 *
 *   npm run sim -- --minutes 120 --doctors 300 --bookings-per-hour 300 --emergency-share 0.1 --seed 42
 *   npm run -s sim -- --minutes 30 --json
 */
import { z } from 'zod';
import { parseSimulationArguments, USAGE } from './options.ts';
import { formatReport, reportLines } from './report.ts';
import { simulate } from './simulate.ts';

async function main(): Promise<void> {
  let options: ReturnType<typeof parseSimulationArguments>;
  try {
    options = parseSimulationArguments(process.argv.slice(2));
  } catch (error) {
    const message =
      error instanceof z.ZodError
        ? error.issues
            .map((issue) => `${issue.path.join('.')}: ${issue.message}, got ${JSON.stringify(issue.input)}`)
            .join('; ')
        : (error as Error).message;
    process.stderr.write(`sim: ${message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const { runs, bookings } = await simulate(options, (matching) => {
    process.stderr.write(`running ${matching} matching …\n`);
  });
  if (options.json) {
    for (const line of reportLines(options, runs, bookings))
      process.stdout.write(`${JSON.stringify(line)}\n`);
  } else {
    console.log(formatReport(options, runs, bookings));
  }
}

await main();
