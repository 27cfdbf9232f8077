/**
 * Light or dark (issue 12): the system's `prefers-color-scheme` unless the person chose one with the
 * header's toggle, which is remembered in localStorage. The theme is `data-theme` on <html>; styles.css
 * gives the colour variables their dark values under it, so every page, chart and graph follows.
 */

export type Theme = 'light' | 'dark';
/** What the person chose: a theme, or nothing (follow the system). */
export type ThemeChoice = Theme | 'system';

export const THEME_STORAGE_KEY = 'orchestra.theme';

export interface ThemeDeps {
  /** localStorage, or null where storage is refused (then a choice lasts for the page). */
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  /** matchMedia('(prefers-color-scheme: dark)'), or null where there is none. */
  systemDark: { matches: boolean; addEventListener(type: 'change', listener: () => void): void; removeEventListener(type: 'change', listener: () => void): void } | null;
  /** Where the theme is shown (document.documentElement). */
  apply(theme: Theme): void;
}

export interface ThemeState {
  choice: ThemeChoice;
  theme: Theme;
}

export interface ThemeController {
  getState: () => ThemeState;
  subscribe: (listener: () => void) => () => void;
  /** A theme chosen (remembered), or 'system' (forgotten: the system's again). */
  choose: (choice: ThemeChoice) => void;
  dispose: () => void;
}

export function parseThemeChoice(value: string | null | undefined): ThemeChoice {
  return value === 'light' || value === 'dark' ? value : 'system';
}

export const resolveTheme = (choice: ThemeChoice, systemDark: boolean): Theme => (choice === 'system' ? (systemDark ? 'dark' : 'light') : choice);

function readChoice(storage: ThemeDeps['storage']): ThemeChoice {
  try {
    return parseThemeChoice(storage?.getItem(THEME_STORAGE_KEY));
  } catch {
    return 'system';
  }
}

/** Applies the remembered or system theme at once (before the first render), then follows changes. */
export function createThemeController(deps: ThemeDeps): ThemeController {
  const listeners = new Set<() => void>();
  let choice = readChoice(deps.storage);
  let state: ThemeState = { choice, theme: resolveTheme(choice, deps.systemDark?.matches === true) };
  deps.apply(state.theme);

  const update = () => {
    const next: ThemeState = { choice, theme: resolveTheme(choice, deps.systemDark?.matches === true) };
    if (next.choice === state.choice && next.theme === state.theme) return;
    if (next.theme !== state.theme) deps.apply(next.theme);
    state = next;
    for (const listener of listeners) listener();
  };
  // The system's setting changed (e.g. at dusk): followed while nothing was chosen.
  const onSystemChange = () => update();
  deps.systemDark?.addEventListener('change', onSystemChange);

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    choose(next) {
      choice = next;
      try {
        if (next === 'system') deps.storage?.removeItem(THEME_STORAGE_KEY);
        else deps.storage?.setItem(THEME_STORAGE_KEY, next);
      } catch {
        // Storage refused (private mode, quota): the choice holds until the page is left.
      }
      update();
    },
    dispose() {
      deps.systemDark?.removeEventListener('change', onSystemChange);
      listeners.clear();
    },
  };
}

/** The browser's storage, media query and <html>. */
export function browserThemeDeps(): ThemeDeps {
  let storage: ThemeDeps['storage'] = null;
  try {
    storage = window.localStorage;
  } catch {
    storage = null;
  }
  return {
    storage,
    systemDark: typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null,
    apply: (theme) => {
      document.documentElement.dataset['theme'] = theme;
    },
  };
}
