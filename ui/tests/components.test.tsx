// Components in happy-dom, with the backend mocked by @tauri-apps/api/mocks.
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/components/App';
import { AlertList } from '../src/components/AlertRow';
import { IgnoreMenu } from '../src/components/IgnoreMenu';
import { Ctx } from '../src/context';
import { translator } from '../src/i18n';
import { SCOPES } from '../src/scopes';
import type { AlertView, Scope, Settings } from '../src/types';
import { alertView, SAMPLE_ALERTS, SAMPLE_SETTINGS, SAMPLE_STATUS } from './fixtures';

let root: HTMLElement;
beforeEach(() => {
  root = document.createElement('div');
  document.body.appendChild(root);
});
afterEach(() => {
  render(null, root);
  root.remove();
  clearMocks();
});

const q = (sel: string) => root.querySelector<HTMLElement>(sel);
const qa = (sel: string) => [...root.querySelectorAll<HTMLElement>(sel)];
const tid = (id: string) => `[data-testid="${id}"]`;

async function waitFor<T>(fn: () => T | null | undefined | false, what = 'condition'): Promise<T> {
  for (let i = 0; i < 200; i++) {
    await act(async () => {
      await new Promise((r) => setTimeout(r, 5));
    });
    const v = fn();
    if (v) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

function key(el: Element, k: string) {
  el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));
}

/** Mounts the whole App on a mock backend; returns the recorded invoke calls. */
async function mountApp(alerts: AlertView[] = [], over: Partial<Settings> = {}, fail: Record<string, string> = {}) {
  const calls: { cmd: string; args: any }[] = [];
  let settings: Settings = { ...SAMPLE_SETTINGS, ...over };
  mockIPC(
    (cmd, args: any) => {
      calls.push({ cmd, args });
      if (fail[cmd]) return Promise.reject(fail[cmd]);
      switch (cmd) {
        case 'list_alerts':
          return alerts;
        case 'engine_status':
          return SAMPLE_STATUS;
        case 'get_settings':
          return settings;
        case 'set_settings':
          settings = args.settings;
          return settings;
        case 'ignore_alert':
          return { ignore_id: 100 + args.id };
        case 'list_ignores':
          return [];
      }
      return null;
    },
    { shouldMockEvents: true },
  );
  await act(async () => {
    render(<App initialLocale="en" />, root);
  });
  await waitFor(() => calls.some((c) => c.cmd === 'get_settings'), 'get_settings');
  return calls;
}

describe('the alert list component', () => {
  it('renders rows newest first with their ignored state', async () => {
    const list = [alertView({ id: 7 }), alertView({ id: 5, ignored: true }), alertView({ id: 2 })];
    await act(async () => {
      render(
        <Ctx.Provider value={{ tr: translator('en'), now: Date.parse('2026-11-28T02:01:00Z') }}>
          <AlertList alerts={list} onIgnore={() => {}} onDetails={() => {}} />
        </Ctx.Provider>,
        root,
      );
    });
    const rows = qa(tid('alert-row'));
    expect(rows.map((r) => r.dataset.alertId)).toEqual(['7', '5', '2']);
    expect(rows.map((r) => r.dataset.ignored)).toEqual(['false', 'true', 'false']);
    expect(rows[1].textContent).toContain('ignored');
    expect((rows[1].querySelector(tid('ignore-button')) as HTMLButtonElement).disabled).toBe(true);
    expect(rows[0].querySelector(tid('alert-program'))!.textContent).toContain('PID 4242');
    expect(rows[0].querySelector(tid('alert-destination'))!.textContent).toMatch(/www\.google\.com.*Google LLC.*US.*142\.250\.74\.36:443/);
    expect(rows[0].querySelector(tid('alert-amount'))!.textContent).toBe('1.5 MiBin 3.2 s');
    expect(rows[0].textContent).toContain('56 s ago');
  });

  it('shows the empty text when there are no alerts', async () => {
    await act(async () => {
      render(<AlertList alerts={[]} onIgnore={() => {}} onDetails={() => {}} />, root);
    });
    expect(q(tid('alerts-empty'))!.textContent).toBe('No uploads worth mentioning.');
  });
});

describe('the ignore menu', () => {
  async function mountMenu() {
    const onIgnore = vi.fn<(s: Scope) => void>();
    await act(async () => {
      render(<IgnoreMenu alertId={1} onIgnore={onIgnore} />, root);
    });
    return onIgnore;
  }

  it('opens on click with the five scopes in order', async () => {
    await mountMenu();
    const btn = q(tid('ignore-button'))!;
    expect(btn.getAttribute('aria-expanded')).toBe('false');
    await act(async () => btn.click());
    expect(btn.getAttribute('aria-expanded')).toBe('true');
    expect(qa('[role=menuitem]').map((e) => e.dataset.testid)).toEqual(['ignore-for_now', 'ignore-for_15m', 'ignore-for_1h', 'ignore-for_24h', 'ignore-always']);
    expect(qa('[role=menuitem]').map((e) => e.textContent)).toEqual(['Ignore for now', 'Ignore for 15 minutes', 'Ignore for 1 hour', 'Ignore for 24 hours', 'Always ignore']);
    expect(document.activeElement).toBe(q(tid('ignore-for_now')));
  });

  it('arrow keys, Home and End move; Enter chooses; Escape closes and refocuses the button', async () => {
    const onIgnore = await mountMenu();
    const btn = q(tid('ignore-button'))!;
    btn.focus();
    await act(async () => key(btn, 'ArrowUp'));
    expect(document.activeElement).toBe(q(tid('ignore-always')));
    const menu = q('[role=menu]')!;
    await act(async () => key(menu, 'ArrowDown'));
    expect(document.activeElement).toBe(q(tid('ignore-for_now')));
    await act(async () => key(menu, 'ArrowUp'));
    expect(document.activeElement).toBe(q(tid('ignore-always')));
    await act(async () => key(menu, 'Home'));
    expect(document.activeElement).toBe(q(tid('ignore-for_now')));
    await act(async () => key(menu, 'End'));
    expect(document.activeElement).toBe(q(tid('ignore-always')));
    await act(async () => key(menu, 'Escape'));
    expect(q('[role=menu]')).toBeNull();
    expect(document.activeElement).toBe(btn);
    expect(onIgnore).not.toHaveBeenCalled();
    await act(async () => key(btn, 'ArrowDown'));
    await act(async () => key(q('[role=menu]')!, 'ArrowDown'));
    await act(async () => (document.activeElement as HTMLElement).click());
    expect(onIgnore).toHaveBeenCalledWith('for_15m');
    expect(q('[role=menu]')).toBeNull();
  });

  it('a click outside closes it', async () => {
    await mountMenu();
    await act(async () => q(tid('ignore-button'))!.click());
    await act(async () => {
      document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    });
    expect(q('[role=menu]')).toBeNull();
  });

  it('each scope sends ignore_alert with {id, scope} and the row shows ignored', async () => {
    const alerts = SCOPES.map((_, i) => alertView({ id: 10 + i, started: new Date(Date.parse('2026-11-28T02:00:00Z') - i * 1000).toISOString() }));
    const calls = await mountApp(alerts);
    await waitFor(() => qa(tid('alert-row')).length === SCOPES.length, 'rows');
    for (const [i, { scope }] of SCOPES.entries()) {
      const row = q(`[data-alert-id="${10 + i}"]`)!;
      await act(async () => (row.querySelector(tid('ignore-button')) as HTMLElement).click());
      await act(async () => (row.querySelector(tid(`ignore-${scope}`)) as HTMLElement).click());
      await waitFor(() => q(`[data-alert-id="${10 + i}"]`)!.dataset.ignored === 'true', `row ${10 + i} ignored`);
    }
    expect(calls.filter((c) => c.cmd === 'ignore_alert').map((c) => c.args)).toEqual(SCOPES.map(({ scope }, i) => ({ id: 10 + i, scope })));
  });

  it('a failed ignore_alert shows the backend message and leaves the row as it was', async () => {
    await mountApp([SAMPLE_ALERTS[0]], {}, { ignore_alert: 'id: no alert 1' });
    await waitFor(() => q(tid('alert-row')), 'row');
    await act(async () => q(tid('ignore-button'))!.click());
    await act(async () => q(tid('ignore-always'))!.click());
    await waitFor(() => q(tid('app-error')), 'error');
    expect(q(tid('app-error'))!.textContent).toContain('id: no alert 1');
    expect(q(tid('alert-row'))!.dataset.ignored).toBe('false');
  });
});

describe('the App with events', () => {
  it('alert and alert-updated events; show-alert opens Details with the filter', async () => {
    await mountApp([SAMPLE_ALERTS[2]]);
    await waitFor(() => qa(tid('alert-row')).length === 1, 'list');
    await act(async () => {
      await emit('alert', SAMPLE_ALERTS[1]);
      await emit('alert', SAMPLE_ALERTS[0]);
    });
    await waitFor(() => qa(tid('alert-row')).length === 3, 'three rows');
    expect(qa(tid('alert-row')).map((r) => r.dataset.alertId)).toEqual(['1', '2', '3']);
    await act(async () => {
      await emit('alert-updated', { ...SAMPLE_ALERTS[1], ignored: true, phase: 'end' });
    });
    await waitFor(() => q('[data-alert-id="2"]')!.dataset.ignored === 'true', 'ignored');
    expect(qa(tid('alert-row')).map((r) => r.dataset.alertId)).toEqual(['1', '2', '3']);
    await act(async () => {
      await emit('show-alert', { id: 2 });
    });
    const filter = await waitFor(() => q(tid('details-filter')), 'details');
    expect(filter.textContent).toBe(JSON.stringify(JSON.parse(SAMPLE_ALERTS[1].callback_filter), null, 2));
    expect(filter.dataset.filter).toBe(SAMPLE_ALERTS[1].callback_filter);
  });
});

describe('the settings page', () => {
  it('invalid input: a message naming the field, no set_settings', async () => {
    const calls = await mountApp();
    await act(async () => q(tid('nav-settings'))!.click());
    const input = await waitFor(() => q(tid('settings-realert')) as HTMLInputElement, 'form');
    expect(input.value).toBe('600');
    await act(async () => {
      input.value = '9999999';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => q(tid('settings-save'))!.click());
    expect(q(tid('settings-error'))!.textContent).toBe('Re-alert cool-down (seconds): must be from 0 to 604,800.');
    expect(q(tid('settings-error'))!.hidden).toBe(false);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(calls.some((c) => c.cmd === 'set_settings')).toBe(false);
  });

  it('a valid change is sent with set_settings', async () => {
    const calls = await mountApp();
    await act(async () => q(tid('nav-settings'))!.click());
    const mode = await waitFor(() => q(tid('settings-mode')) as HTMLSelectElement, 'form');
    await act(async () => {
      mode.value = 'paranoid';
      mode.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => q(tid('settings-save'))!.click());
    await waitFor(() => q(tid('settings-saved')), 'saved');
    expect(calls.filter((c) => c.cmd === 'set_settings').map((c) => c.args)).toEqual([{ settings: { ...SAMPLE_SETTINGS, mode: 'paranoid' } }]);
  });

  it('switching the language re-renders in Russian at once', async () => {
    const calls = await mountApp();
    await act(async () => q(tid('nav-settings'))!.click());
    const sel = await waitFor(() => q(tid('settings-locale')) as HTMLSelectElement, 'form');
    await act(async () => {
      sel.value = 'ru';
      sel.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await waitFor(() => q(tid('nav-settings'))!.textContent === 'Настройки', 'Russian');
    expect(document.documentElement.lang).toBe('ru');
    expect(calls.filter((c) => c.cmd === 'set_settings').map((c) => c.args.settings.locale)).toEqual(['ru']);
  });
});
