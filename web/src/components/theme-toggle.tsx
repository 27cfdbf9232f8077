import { useTheme } from '../hooks/use-theme';
import { Icon } from './icons';

/**
 * Dark mode on or off (remembered in this browser). Until it is pressed the app follows the system's
 * setting; "Use the system setting" (shown once a choice is remembered) goes back to that.
 */
export function ThemeToggle() {
  const { theme, choice, choose } = useTheme();
  const dark = theme === 'dark';
  return (
    <span className="flex items-center">
      <button
        type="button"
        aria-pressed={dark}
        aria-label="Dark mode"
        title={dark ? 'Dark mode is on: switch to light' : 'Switch to dark mode'}
        data-testid="theme-toggle"
        data-theme-choice={choice}
        onClick={() => choose(dark ? 'light' : 'dark')}
        className="rounded-md p-1.5 text-slate-600 hover:bg-slate-100 hover:text-slate-900"
      >
        <Icon name={dark ? 'moon' : 'sun'} className="size-5" />
      </button>
      {choice !== 'system' && (
        <button type="button" onClick={() => choose('system')} className="hidden rounded-md px-1.5 py-1 text-xs text-slate-500 hover:bg-slate-100 hover:text-slate-800 xl:block" title="Follow the system's light or dark setting again">
          Use system setting
        </button>
      )}
    </span>
  );
}
