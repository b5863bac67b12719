import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useUi } from '../context';
import { SCOPES } from '../scopes';
import type { Scope } from '../types';

interface Props {
  /** The alert's id (for labels). */
  alertId?: number;
  /** The button's accessible name, when it is not about an alert (e.g. a program's ignores). */
  label?: string;
  disabled?: boolean;
  onIgnore(scope: Scope): void;
}

/**
 * "Ignore ▾": a menu button (WAI-ARIA menu pattern). Opens with click, Enter, Space or
 * ArrowDown (first item) / ArrowUp (last item); arrows, Home and End move; Escape closes and
 * returns focus to the button; Tab or a click outside closes.
 */
export function IgnoreMenu({ alertId, label, disabled, onIgnore }: Props) {
  const { tr } = useUi();
  const [open, setOpen] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const items = useRef<(HTMLButtonElement | null)[]>([]);
  const root = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (open) items.current[focusIndex]?.focus();
  }, [open, focusIndex]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: Event) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, [open]);

  const openAt = (i: number) => {
    setFocusIndex(i);
    setOpen(true);
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };
  const choose = (scope: Scope) => {
    close(true);
    onIgnore(scope);
  };

  const onButtonKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      openAt(0);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      openAt(SCOPES.length - 1);
    }
  };
  const onMenuKey = (e: KeyboardEvent) => {
    const n = SCOPES.length;
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        setFocusIndex((i) => (i + 1) % n);
        break;
      case 'ArrowUp':
        e.preventDefault();
        setFocusIndex((i) => (i - 1 + n) % n);
        break;
      case 'Home':
        e.preventDefault();
        setFocusIndex(0);
        break;
      case 'End':
        e.preventDefault();
        setFocusIndex(n - 1);
        break;
      case 'Escape':
        e.preventDefault();
        e.stopPropagation();
        close(true);
        break;
      case 'Tab':
        setOpen(false);
        break;
    }
  };

  return (
    <div class="menu-wrap" ref={root}>
      <button
        ref={button}
        type="button"
        class="btn"
        data-testid="ignore-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={label ?? tr.t('ui-ignore-menu-label', { id: String(alertId ?? '') })}
        disabled={disabled}
        onClick={() => (open ? close(false) : openAt(0))}
        onKeyDown={onButtonKey}
      >
        {tr.t('ui-ignore-button')} <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div class="menu" role="menu" id={menuId} aria-label={tr.t('ui-ignore-button')} onKeyDown={onMenuKey}>
          {SCOPES.map(({ scope, label }, i) => (
            <button
              key={scope}
              ref={(el) => {
                items.current[i] = el;
              }}
              type="button"
              role="menuitem"
              class="menu-item"
              tabIndex={i === focusIndex ? 0 : -1}
              data-testid={`ignore-${scope}`}
              onClick={() => choose(scope)}
            >
              {tr.t(label)}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
