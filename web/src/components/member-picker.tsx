import { useId, useState, type KeyboardEvent } from 'react';
import { useApiQuery } from '../hooks/use-api';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import { membersQuery } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { EmailText } from './email-text';

/** The most members a picker lists for what was typed. */
const PICKER_RESULTS = 10;

export interface PickedMember {
  id: string;
  /** What the picker shows once chosen: the name, or the e-mail. */
  label: string;
}

/**
 * Chooses a member of the organization by typing part of their name or e-mail (a combobox: arrow keys
 * move through the matches, Enter chooses, Escape closes). The chosen member shows with a button to clear it.
 */
export function MemberPicker({ label, value, onChange, className = '' }: { label: string; value: PickedMember | undefined; onChange: (member: PickedMember | undefined) => void; className?: string }) {
  const id = useId();
  const listId = `${id}-list`;
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const search = useDebouncedValue(text.trim());
  const matches = useApiQuery(queryKeys.members.picker(search), membersQuery, { first: PICKER_RESULTS, search: search || null }, { enabled: open && value === undefined, staleTime: 30_000 });
  const options = matches.data?.members.edges.map((e) => e.node.user) ?? [];

  const choose = (user: { id: string; name: string; email: string }) => {
    onChange({ id: user.id, label: user.name ? `${user.name} (${user.email})` : user.email });
    setText('');
    setOpen(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      setOpen(true);
      if (options.length > 0) setActive((a) => (event.key === 'ArrowDown' ? (a + 1) % options.length : (a - 1 + options.length) % options.length));
    } else if (event.key === 'Enter') {
      const option = options[active];
      if (open && option) {
        event.preventDefault();
        choose(option);
      }
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      setOpen(false);
    }
  };

  return (
    <div className={`relative ${className}`}>
      <label htmlFor={id} className="mb-1 block text-sm font-medium text-slate-700">
        {label}
      </label>
      {value ? (
        <div className="flex min-h-9 items-center justify-between gap-2 rounded-lg bg-indigo-50 px-3 py-1.5 text-sm text-indigo-900 ring-1 ring-inset ring-indigo-200" data-testid="picked-member">
          <EmailText value={value.label} className="min-w-0" />
          <button type="button" className="shrink-0 rounded px-1 text-indigo-700 hover:bg-indigo-100" aria-label={`Clear ${label.toLowerCase()}`} onClick={() => onChange(undefined)}>
            ×
          </button>
        </div>
      ) : (
        <input
          id={id}
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && options[active] ? `${id}-option-${active}` : undefined}
          autoComplete="off"
          placeholder="Name or e-mail"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setActive(0);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setOpen(false)}
          onKeyDown={onKeyDown}
          className="block w-full rounded-lg border-0 px-3 py-2 text-sm text-slate-900 shadow-xs ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-500"
        />
      )}
      {open && value === undefined && (
        <ul id={listId} role="listbox" aria-label={`${label} matches`} className="absolute z-20 mt-1 max-h-64 w-full min-w-64 overflow-auto rounded-lg bg-white py-1 text-sm shadow-lg ring-1 ring-slate-200">
          {matches.isPending ? (
            <li className="px-3 py-2 text-slate-500">Searching…</li>
          ) : matches.error ? (
            <li className="px-3 py-2 text-red-700">Members could not be read: {matches.error.message}</li>
          ) : options.length === 0 ? (
            <li className="px-3 py-2 text-slate-500">No member matches “{search}”.</li>
          ) : (
            options.map((user, i) => (
              <li
                key={user.id}
                id={`${id}-option-${i}`}
                role="option"
                aria-selected={i === active}
                // Chosen on mousedown: the input's blur (which closes the list) comes before a click.
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(user);
                }}
                onMouseEnter={() => setActive(i)}
                className={`cursor-pointer px-3 py-1.5 ${i === active ? 'bg-indigo-50 text-indigo-900' : 'text-slate-700'}`}
              >
                <span className="block font-medium">{user.name || user.email}</span>
                {user.name && <EmailText value={user.email} className="block text-xs text-slate-500" />}
              </li>
            ))
          )}
        </ul>
      )}
    </div>
  );
}
