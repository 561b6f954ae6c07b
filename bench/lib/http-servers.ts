/**
 * The server side of bench/http.bench.ts, run as its own process so that the load generator does not share its event
 * loop: a fleet of SIZE doctors with positions, the doctor routes on one {@link Router}, served by the engine's
 * uWebSockets.js {@link HttpServer} and by the node:http adapter. Prints `{"uws":PORT,"nodeHttp":PORT}` on stdout once
 * both listen; exits on SIGTERM.
 */
import { addDoctorRoutes } from '../../api/routes/doctors.ts';
import { Router } from '../../api/router.ts';
import { HttpServer } from '../../api/server.ts';
import { createLogger } from '../../engine/logger.ts';
import { buildFleet } from '../nearby.bench.ts';
import { syntheticCity } from './city.ts';
import { startNodeHttpServer } from './node-http-adapter.ts';

const size = Number(process.argv[2] ?? 100_000);
const fleet = buildFleet(syntheticCity(size, 1));
const router = new Router();
addDoctorRoutes(router, () => fleet);
const uws = new HttpServer({ host: '127.0.0.1', port: 0, router, logger: createLogger('warn') });
const uwsPort = await uws.listen();
const nodeHttp = await startNodeHttpServer(router);
process.stdout.write(`${JSON.stringify({ uws: uwsPort, nodeHttp: nodeHttp.port })}\n`);
process.once('SIGTERM', () => {
  void uws.close(1_000).then(() => {
    nodeHttp.server.close();
    process.exit(0);
  });
});
