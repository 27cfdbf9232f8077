import { createThemeController, parseThemeChoice, resolveTheme, THEME_STORAGE_KEY, type ThemeDeps } from './theme';

function fakeDeps(stored: string | null, systemDark: boolean) {
  const items = new Map<string, string>(stored === null ? [] : [[THEME_STORAGE_KEY, stored]]);
  const listeners = new Set<() => void>();
  const applied: string[] = [];
  const media = {
    matches: systemDark,
    addEventListener: (_: 'change', l: () => void) => void listeners.add(l),
    removeEventListener: (_: 'change', l: () => void) => void listeners.delete(l),
  };
  const deps: ThemeDeps = {
    storage: { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) },
    systemDark: media,
    apply: (t) => void applied.push(t),
  };
  const systemChanges = (dark: boolean) => {
    media.matches = dark;
    for (const l of listeners) l();
  };
  return { deps, items, applied, systemChanges, listeners };
}

describe('theme', () => {
  it('reads only light and dark as choices', () => {
    expect(parseThemeChoice('dark')).toBe('dark');
    expect(parseThemeChoice('light')).toBe('light');
    expect(parseThemeChoice('purple')).toBe('system');
    expect(parseThemeChoice(null)).toBe('system');
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('light', true)).toBe('light');
  });

  it('follows the system until a theme is chosen, remembers the choice, and forgets it for "system"', () => {
    const { deps, items, applied, systemChanges } = fakeDeps(null, false);
    const theme = createThemeController(deps);
    expect(theme.getState()).toEqual({ choice: 'system', theme: 'light' });
    expect(applied).toEqual(['light']);
    systemChanges(true);
    expect(theme.getState().theme).toBe('dark');
    expect(applied).toEqual(['light', 'dark']);

    theme.choose('light');
    expect(items.get(THEME_STORAGE_KEY)).toBe('light');
    expect(theme.getState()).toEqual({ choice: 'light', theme: 'light' });
    // A chosen theme stays whatever the system does.
    systemChanges(false);
    systemChanges(true);
    expect(theme.getState().theme).toBe('light');

    theme.choose('system');
    expect(items.has(THEME_STORAGE_KEY)).toBe(false);
    expect(theme.getState()).toEqual({ choice: 'system', theme: 'dark' });
  });

  it('starts from the remembered choice, and tells subscribers only of changes', () => {
    const { deps, applied, listeners } = fakeDeps('dark', false);
    const theme = createThemeController(deps);
    expect(theme.getState()).toEqual({ choice: 'dark', theme: 'dark' });
    expect(applied).toEqual(['dark']);
    let told = 0;
    const stop = theme.subscribe(() => (told += 1));
    theme.choose('dark');
    expect(told).toBe(0);
    theme.choose('light');
    expect(told).toBe(1);
    stop();
    theme.dispose();
    expect(listeners.size).toBe(0);
  });

  it('keeps working when storage refuses', () => {
    const { deps } = fakeDeps(null, false);
    const refusing: ThemeDeps = {
      ...deps,
      storage: {
        getItem: () => {
          throw new Error('SecurityError');
        },
        setItem: () => {
          throw new Error('QuotaExceededError');
        },
        removeItem: () => undefined,
      },
    };
    const theme = createThemeController(refusing);
    expect(theme.getState().choice).toBe('system');
    theme.choose('dark');
    expect(theme.getState()).toEqual({ choice: 'dark', theme: 'dark' });
  });
});
