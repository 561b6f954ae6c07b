/** Attributes of {@link element}: strings are set as attributes, functions starting with `on` as listeners. */
export type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/**
 * Creates an element with attributes and children. `false` and `undefined` attributes are left out, `true` ones set
 * empty; `on<event>` functions become listeners; strings among the children become text nodes (never HTML).
 */
export function element<Tag extends keyof HTMLElementTagNameMap>(
  tag: Tag,
  attributes: Attributes = {},
  children: (Node | string | undefined)[] = [],
): HTMLElementTagNameMap[Tag] {
  const created = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') created.addEventListener(name.slice(2), value);
    else created.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== undefined) created.append(child);
  }
  return created;
}

/**
 * The element with `data-testid="<id>"`.
 *
 * @throws Error when the page has none (the template and the script disagree).
 */
export function byTestId<Found extends HTMLElement = HTMLElement>(
  id: string,
  root: ParentNode = document,
): Found {
  const found = root.querySelector<Found>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`no element with data-testid="${id}"`);
  return found;
}

/** Shows or hides an element (the `hidden` attribute). */
export function show(target: HTMLElement, visible: boolean): void {
  target.hidden = !visible;
}

/** Formats seconds as `m:ss` (or `h:mm:ss`), for ETAs. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** The given children without the absent ones, for `replaceChildren`. */
export function present(...children: (Node | string | undefined)[]): (Node | string)[] {
  return children.filter((child): child is Node | string => child !== undefined);
}
