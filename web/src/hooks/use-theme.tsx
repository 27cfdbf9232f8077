import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { ThemeController, ThemeState } from '../lib/theme';

const ThemeContext = createContext<ThemeController | null>(null);

/** The theme controller made by main.tsx (lib/theme.ts), for the toggle and anything drawn by script. */
export function ThemeProvider({ theme, children }: { theme: ThemeController; children: ReactNode }) {
  return <ThemeContext.Provider value={theme}>{children}</ThemeContext.Provider>;
}

export function useTheme(): ThemeState & { choose: ThemeController['choose'] } {
  const theme = useContext(ThemeContext);
  if (!theme) throw new Error('useTheme outside ThemeProvider');
  const state = useSyncExternalStore(theme.subscribe, theme.getState);
  return { ...state, choose: theme.choose };
}
