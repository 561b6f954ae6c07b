/** What the engine tells a page at load (api/static-routes.ts `PageConfig`), embedded in the HTML as JSON. */
export interface PageConfig {
  page: 'console' | 'patient' | 'doctor' | 'index';
  /** MapLibre style URL of the base map; absent: the offline fallback. */
  mapStyleUrl?: string;
  mapWorkerUrl: string;
  /** The booking the patient page opens. */
  bookingId?: string;
}

/**
 * Reads the page config from `<script id="page-config" type="application/json">`.
 *
 * @throws Error when the element is missing or not JSON (the page was not served by the engine).
 */
export function readPageConfig(): PageConfig {
  const element = document.getElementById('page-config');
  if (!element?.textContent)
    throw new Error('page-config element is missing: open the page through the engine');
  return JSON.parse(element.textContent) as PageConfig;
}
