import { useUi } from '../context';
import { flag } from '../i18n';
import type { UploadTotal } from '../types';

/** Stored upload totals per destination organisation and country (History, a program's page). */
export function DestinationsTable({ rows, testid, rowTestid }: { rows: UploadTotal[]; testid: string; rowTestid: string }) {
  const { tr } = useUi();
  return (
    <table class="table" data-testid={testid}>
      <thead>
        <tr>
          <th scope="col">{tr.t('ui-history-col-organisation')}</th>
          <th scope="col">{tr.t('ui-history-col-country')}</th>
          <th scope="col" class="num">{tr.t('ui-history-col-sent')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={`${d.key}|${d.country}`} data-testid={rowTestid}>
            <td>{d.key || tr.t('ui-unknown-owner')}</td>
            <td>{d.country ? `${flag(d.country)} ${d.country}` : '—'}</td>
            <td class="num">{tr.size(d.bytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
