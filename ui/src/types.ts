// Payloads of docs/ui-contract.md (snake_case JSON, times RFC 3339 UTC).

export type Kind = 'sudden' | 'active' | 'passive' | 'spread';
export type Phase = 'new' | 'update' | 'end';

export interface ProcessView {
  pid: number;
  name: string;
  exe: string | null;
}

export interface AlertView {
  id: number;
  phase: Phase;
  kind: Kind;
  exciter: string;
  message: string;
  process: ProcessView | null;
  dstip: string;
  dstport: number;
  srcport: number;
  hostname: string | null;
  /** How far `hostname` can be believed (absent from older services). */
  name_trust?: 'trusted' | 'verified' | 'unverified' | 'contradicted' | null;
  orgname: string | null;
  asn: number | null;
  country: string | null;
  bytes: number;
  started: string;
  at: string;
  duration_s: number;
  pattern: string | null;
  callback_filter: string;
  ignored: boolean;
}

export interface StatsProgram {
  key: string;
  name: string;
  pid: number | null;
  bytes: number;
}

export interface StatsEvent {
  at: string;
  programs: StatsProgram[];
}

export type EngineState = 'watching' | 'paused' | 'no_permission' | 'error';

export interface EngineStatus {
  state: EngineState;
  paused_until: string | null;
  interfaces: string[];
  packets_per_s: number;
  /** Packets the kernel dropped (capture buffer full). */
  dropped_packets: number;
  /** Batches of packets Leakwatch dropped (detection behind). */
  dropped_batches: number;
  attributed_share: number | null;
  legacy_port: number | null;
  message: string | null;
  version: string;
  /** Where the figures come from (absent from older backends). */
  source?: 'service' | 'embedded' | 'replay';
  /** Whether connection tracing names short-lived programs; null: unknown or not applicable. */
  connection_tracing?: boolean | null;
  /** Bytes uploaded in the last minute, and the share of them with a known program. */
  uploaded_last_minute?: number;
  attributed_last_minute?: number | null;
  /** What keeps Leakwatch from seeing everything, each with its fix. */
  problems?: HealthProblem[];
  /** The tray tooltip's health line. */
  health?: string;
}

export interface HealthProblem {
  id: string;
  text: string;
  fix: string;
  command: string | null;
}

export type Scope = 'for_now' | 'for_15m' | 'for_1h' | 'for_24h' | 'always';

export interface IgnoreView {
  id: number;
  name: string | null;
  filter: string;
  permanent: boolean;
  until: string | null;
  source: string | null;
  /** When it was added (RFC 3339); null when unknown (e.g. a file written by the legacy daemon). */
  created_at: string | null;
}

export type Mode = 'paranoid' | 'adequate' | 'chill';
export type LocaleId = 'en' | 'ru';

export interface Settings {
  mode: Mode;
  max_traffic_during_10_sec: number;
  min_leak_size: number;
  realert_after_s: number;
  locale: LocaleId;
  interfaces: string[];
  legacy_enabled: boolean;
  start_at_login: boolean;
  /** Notify first-time senders; null: by mode (on in paranoid and adequate, off in chill). */
  first_senders?: boolean | null;
}

// History tab (history_uploads, history_alerts, export_history).
export type HistoryRange = '1h' | '24h' | '7d' | '30d';
export type GroupBy = 'program' | 'destination' | 'country';

export interface SeriesPoint {
  /** Start of the bucket, Unix seconds. */
  start: number;
  program: string;
  bytes: number;
}

export interface UploadTotal {
  key: string;
  country: string | null;
  bytes: number;
}

export interface UploadsView {
  bucket_s: number;
  since: number;
  /** End of the range (excluded), Unix seconds: now, or the `until` asked for. */
  until: number;
  /** When the newest record is (Unix seconds), null when nothing was recorded. */
  newest: number | null;
  series: SeriesPoint[];
  top: UploadTotal[];
}

/** A stored alert: the alert JSON plus what happened to it. */
export interface HistoryAlert extends Omit<AlertView, 'ignored' | 'phase'> {
  phase: Phase;
  ignored: boolean;
  ignored_scope: string | null;
  ignored_at: string | null;
  updates: number;
}

// Programs and Connections views (programs, connections_now, ignore_program).

/** One open flow (`FlowRecord::to_live_json`): payload bytes each way so far. */
export interface FlowView {
  proto: string;
  local: string;
  remote: string;
  payload_out: number;
  payload_in: number;
  bytes_out: number;
  bytes_in: number;
  packets_out: number;
  packets_in: number;
  first: string;
  last: string;
  hostname: string | null;
  orgname: string | null;
  country: string | null;
  process: ProcessView | null;
}

/** `connections_now()`: the most recently active open flows, as of the engine's packet time. */
export interface FlowsNow {
  now: string | null;
  now_us: number | null;
  /** Open flows in all (the list is cut at 300). */
  open: number;
  flows: FlowView[];
}

/** One program's figures over a period (`programs`, from history). */
export interface ProgramRow {
  program: string;
  bytes: number;
  destinations: number;
  countries: string[];
  /** Unix seconds. */
  first: number;
  last: number;
  alerts: number;
  /** When the history first saw it send (Unix seconds): new when within the period. */
  first_ever?: number;
  /** Bytes received in flows that ended within the period (to the hour); absent from an older service. */
  received?: number | null;
}

export interface ProgramsView {
  since: number;
  until: number;
  newest: number | null;
  programs: ProgramRow[];
}

export type Period = 'now' | '1h' | 'today' | '7d' | '30d';
