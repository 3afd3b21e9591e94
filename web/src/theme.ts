export type ThemeName = 'light' | 'dark';

/** Colours the canvas-drawn parts (charts, sparklines) need; the DOM parts use the CSS variables in styles.css. */
export interface Palette {
  readonly name: ThemeName;
  readonly background: string;
  readonly text: string;
  readonly muted: string;
  readonly grid: string;
  readonly up: string;
  readonly down: string;
  readonly upFaint: string;
  readonly downFaint: string;
  readonly vwap: string;
  readonly accent: string;
  readonly warn: string;
}

const PALETTES: Record<ThemeName, Palette> = {
  light: {
    name: 'light',
    background: '#ffffff',
    text: '#1b1f24',
    muted: '#6a737d',
    grid: '#eef0f3',
    up: '#0f9d58',
    down: '#d93025',
    upFaint: 'rgba(15, 157, 88, 0.35)',
    downFaint: 'rgba(217, 48, 37, 0.35)',
    vwap: '#e8a400',
    accent: '#1a73e8',
    warn: '#d93025',
  },
  dark: {
    name: 'dark',
    background: '#14171c',
    text: '#e6e8eb',
    muted: '#8b949e',
    grid: '#222730',
    up: '#26c281',
    down: '#f0524a',
    upFaint: 'rgba(38, 194, 129, 0.35)',
    downFaint: 'rgba(240, 82, 74, 0.35)',
    vwap: '#f5c542',
    accent: '#58a6ff',
    warn: '#f0524a',
  },
};

const STORAGE_KEY = 'tickstream.theme';

/** The remembered choice, else the system's preference. */
export function initialTheme(storage: Storage, media: (query: string) => MediaQueryList): ThemeName {
  let saved: string | null = null;
  try {
    saved = storage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled (private mode, policies); fall back to the system preference.
  }
  if (saved === 'light' || saved === 'dark') return saved;
  return media('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Owns the page's theme: the data-theme attribute, the remembered choice, and who gets told on a change. */
export class Theme {
  #name: ThemeName;
  readonly #listeners: ((p: Palette) => void)[] = [];
  readonly #storage: Storage;

  constructor(storage: Storage, media: (query: string) => MediaQueryList) {
    this.#storage = storage;
    this.#name = initialTheme(storage, media);
    document.documentElement.dataset['theme'] = this.#name;
  }

  get palette(): Palette {
    return PALETTES[this.#name];
  }

  onChange(listener: (p: Palette) => void): void {
    this.#listeners.push(listener);
  }

  toggle(): void {
    this.#name = this.#name === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset['theme'] = this.#name;
    try {
      this.#storage.setItem(STORAGE_KEY, this.#name);
    } catch {
      // Not remembered when storage is unavailable; the toggle still applies for this page.
    }
    for (const l of this.#listeners) l(this.palette);
  }
}
