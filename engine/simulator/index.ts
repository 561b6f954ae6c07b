/** The city simulator's public surface. */
export { CitySimulator, SPECIALIZATIONS } from './city-simulator.ts';
export {
  MOSCOW_BOX,
  resolveSimulatorConfig,
  type CityBox,
  type Range,
  type SimulatorConfig,
  type SimulatorOptions,
} from './config.ts';
export {
  startSimulator,
  type SimPublisher,
  type SimulatorDriverOptions,
  type SimulatorHandle,
} from './driver.ts';
export type {
  SimClinic,
  SimDetector,
  SimDoctor,
  SimDutyChange,
  SimFix,
  SimHandedDoctor,
  SimHotSpot,
  SimReading,
  SimStep,
} from './types.ts';
