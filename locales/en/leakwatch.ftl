# Leakwatch messages, English.
#
# Variables in alert messages (values are inserted literally):
#   $process  program name            $pid       its process id
#   $host     server host name        $ip        server address
#   $port     server port             $org       owner of the address
#   $country  country of the address  $size      amount sent ("1.5 MiB")
#   $duration how long ("1 min 5 s")  $kind      kind of upload (kind-*)
#   $proto    protocol ("ICMP")       $destinations  how many destinations (spread)
#   $process-known, $has-port: "yes" or "no"; $host-known: "yes", "no" or "claimed" (the host
#   name is contradicted by the address's owner), for the fragments below.
# A missing value is shown as the `unknown` word.

## Shared words

unknown = unknown
unknown-program = unknown program

## Fragments used inside alert messages

# Who sent the data: starts a sentence.
fragment-who =
    { $process-known ->
        [yes] { $process } (PID { $pid })
       *[no] An unknown program
    }
# Where the data went.
fragment-server =
    { $host-known ->
        [yes] { $host } ({ $ip }, { fragment-port })
        [claimed] { $ip }, { fragment-port } (claims to be { $host }; the address belongs to { $org })
       *[no] { $ip }, { fragment-port }
    }
# The server's port, or the protocol when it has no ports (ICMP, GRE, ESP, …).
fragment-port =
    { $has-port ->
        [yes] port { $port }
       *[no] over { $proto }
    }

## Kinds of upload

kind-sudden = Sudden upload
kind-sudden-desc = A lot of data sent in a few seconds.
kind-active = Steady upload
kind-active-desc = Data sent fast and without pause for a while.
kind-passive = Slow upload
kind-passive-desc = A little data sent again and again over a long time.
kind-spread = Spread upload
kind-spread-desc = One program sent a lot of data in a few seconds, a little to each of many addresses.

## Messages for alerts that match no known pattern

alert-sudden-msg = { fragment-who } suddenly sent { $size } in { $duration } to { fragment-server }. Owner: { $org }, country: { $country }.
alert-sudden-exciter = Sudden upload
alert-active-msg = { fragment-who } has been sending data steadily: { $size } in { $duration } to { fragment-server }. Owner: { $org }, country: { $country }.
alert-active-exciter = Steady upload
alert-passive-msg = { fragment-who } keeps sending small amounts of data: { $size } in { $duration } to { fragment-server }. Owner: { $org }, country: { $country }.
alert-passive-exciter = Slow, persistent upload
alert-spread-msg = { fragment-who } sent { $size } in { $duration } to { $destinations } addresses, the most to { fragment-server }. Owner: { $org }, country: { $country }.
alert-spread-exciter = Upload spread over many addresses

## Messages per pattern (id: pattern name, lower case, dots → dashes)

pattern-default-msg = { $kind }: { fragment-who } sent { $size } in { $duration } to { fragment-server }. Owner: { $org }, country: { $country }.
pattern-default-exciter = Data is leaving your computer

pattern-undefined-msg = Data is leaving your computer, but its source is unclear: { $size } in { $duration } to { fragment-server }.
pattern-undefined-exciter = Upload from an unclear source
pattern-port-msg = Something on your computer sent { $size } in { $duration } to { fragment-server }. The program behind it could not be found.
pattern-port-exciter = Upload from an unknown program
pattern-ip-msg = In { $duration }, { $size } went to { fragment-server }, and the program that sent it could not be found. Owner of the address: { $org }, country: { $country }.
pattern-ip-exciter = Upload to an unfamiliar address
pattern-process-msg = { fragment-who } sent { $size } in { $duration } to { fragment-server }. Owner: { $org }, country: { $country }.
pattern-process-exciter = A program is sending data

pattern-yandex-msg = { fragment-who } sent { $size } to Yandex in { $duration }. Server: { fragment-server }.
pattern-yandex-exciter = Upload to Yandex
pattern-google-msg = { fragment-who } sent { $size } to Google in { $duration }. Server: { fragment-server }.
pattern-google-exciter = Upload to Google
pattern-google-cache-msg = { fragment-who } sent { $size } to a Google cache server in { $duration }. Server: { fragment-server }.
pattern-google-cache-exciter = Upload to Google cache
pattern-amazon-msg = { fragment-who } sent { $size } to Amazon in { $duration }. Server: { fragment-server }.
pattern-amazon-exciter = Upload to Amazon
pattern-amazon-aws-msg = { fragment-who } sent { $size } to the Amazon cloud (AWS) in { $duration }. Server: { fragment-server }.
pattern-amazon-aws-exciter = Upload to Amazon cloud
pattern-vkontakte-msg = { fragment-who } sent { $size } to VKontakte in { $duration }. Server: { fragment-server }.
pattern-vkontakte-exciter = Upload to VKontakte
pattern-mailru-msg = { fragment-who } sent { $size } to Mail.ru in { $duration }. Server: { fragment-server }.
pattern-mailru-exciter = Upload to Mail.ru
pattern-microsoft-msg = { fragment-who } sent { $size } to Microsoft in { $duration }. Server: { fragment-server }.
pattern-microsoft-exciter = Upload to Microsoft
pattern-microsoft-updates-msg = { fragment-who } sent { $size } to Microsoft's update servers in { $duration }. This is most likely Windows Update. Server: { fragment-server }.
pattern-microsoft-updates-exciter = Windows Update traffic
pattern-microsoft-azure-msg = { fragment-who } sent { $size } to the Microsoft cloud (Azure) in { $duration }. Server: { fragment-server }.
pattern-microsoft-azure-exciter = Upload to Microsoft cloud

pattern-stdapps-msg = A common app, { fragment-who }, sent { $size } in { $duration } to { fragment-server }.
pattern-stdapps-exciter = Upload by a common app
pattern-stdapp-skype-msg = Skype, { fragment-who }, sent { $size } in { $duration } to { fragment-server }. Calls and shared files do this.
pattern-stdapp-skype-exciter = Skype is sending data
pattern-stdapp-steam-msg = Steam, { fragment-who }, sent { $size } in { $duration } to { fragment-server }. Games and cloud saves do this.
pattern-stdapp-steam-exciter = Steam is sending data
pattern-stdapp-torrentclient-msg = A torrent client, { fragment-who }, sent { $size } in { $duration } to { fragment-server }. It shares files with other people.
pattern-stdapp-torrentclient-exciter = Torrent client is sharing files
pattern-stdapp-dropbox-msg = Dropbox, { fragment-who }, sent { $size } in { $duration } to { fragment-server }. It is syncing your files.
pattern-stdapp-dropbox-exciter = Dropbox is syncing
pattern-stdapp-browser-msg = A browser tab in { fragment-who } sent { $size } in { $duration } to { fragment-server }. Owner: { $org }.
pattern-stdapp-browser-exciter = Browser is sending data
pattern-stdapp-browser-google-msg = A browser tab in { fragment-who } sent { $size } to Google in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-google-exciter = Browser upload to Google
pattern-stdapp-browser-yandex-msg = A browser tab in { fragment-who } sent { $size } to Yandex in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-yandex-exciter = Browser upload to Yandex
pattern-stdapp-browser-yandex-statica-msg = A browser tab in { fragment-who } sent { $size } to Yandex's static content servers in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-yandex-statica-exciter = Browser upload to Yandex
pattern-stdapp-browser-vkontakte-msg = A browser tab in { fragment-who } sent { $size } to VKontakte in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-vkontakte-exciter = Browser upload to VKontakte
pattern-stdapp-browser-metrica-yandex-msg = Yandex Metrica, a visitor tracker, collected { $size } from your browser in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-metrica-yandex-exciter = Tracking by Yandex Metrica
pattern-stdapp-browser-metrica-mailru-msg = The Mail.ru visitor counter collected { $size } from your browser in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-metrica-mailru-exciter = Tracking by Mail.ru
pattern-stdapp-browser-amazon-aws-msg = A browser tab in { fragment-who } sent { $size } to the Amazon cloud (AWS) in { $duration }. Server: { fragment-server }.
pattern-stdapp-browser-amazon-aws-exciter = Browser upload to Amazon cloud

pattern-apple-msg = { fragment-who } sent { $size } to Apple (iCloud) in { $duration }. Server: { fragment-server }.
pattern-apple-exciter = Upload to Apple
pattern-meta-msg = { fragment-who } sent { $size } to Meta (Facebook, Instagram, WhatsApp) in { $duration }. Server: { fragment-server }.
pattern-meta-exciter = Upload to Meta
pattern-cloudflare-msg = { fragment-who } sent { $size } through Cloudflare in { $duration }. Cloudflare serves many websites, so the real receiver may be any of them. Server: { fragment-server }.
pattern-cloudflare-exciter = Upload through Cloudflare
pattern-akamai-msg = { fragment-who } sent { $size } through Akamai in { $duration }. Akamai serves many companies, so the real receiver may be any of them. Server: { fragment-server }.
pattern-akamai-exciter = Upload through Akamai
pattern-fastly-msg = { fragment-who } sent { $size } through Fastly in { $duration }. Fastly serves many websites, so the real receiver may be any of them. Server: { fragment-server }.
pattern-fastly-exciter = Upload through Fastly
pattern-digitalocean-msg = { fragment-who } sent { $size } to a server rented at DigitalOcean in { $duration }. Anyone can rent one. Server: { fragment-server }.
pattern-digitalocean-exciter = Upload to a DigitalOcean server
pattern-hetzner-msg = { fragment-who } sent { $size } to a server rented at Hetzner in { $duration }. Anyone can rent one. Server: { fragment-server }.
pattern-hetzner-exciter = Upload to a Hetzner server
pattern-ovh-msg = { fragment-who } sent { $size } to a server rented at OVH in { $duration }. Anyone can rent one. Server: { fragment-server }.
pattern-ovh-exciter = Upload to an OVH server
pattern-telegram-msg = { fragment-who } sent { $size } to Telegram in { $duration }. Server: { fragment-server }.
pattern-telegram-exciter = Upload to Telegram
pattern-zoom-msg = { fragment-who } sent { $size } to Zoom in { $duration }. A call or screen share does this. Server: { fragment-server }.
pattern-zoom-exciter = Upload to Zoom
pattern-slack-msg = { fragment-who } sent { $size } to Slack in { $duration }. Server: { fragment-server }.
pattern-slack-exciter = Upload to Slack
pattern-discord-msg = { fragment-who } sent { $size } to Discord in { $duration }. Server: { fragment-server }.
pattern-discord-exciter = Upload to Discord
pattern-spotify-msg = { fragment-who } sent { $size } to Spotify in { $duration }. Server: { fragment-server }.
pattern-spotify-exciter = Upload to Spotify
pattern-github-msg = { fragment-who } sent { $size } to GitHub in { $duration }. Pushing code does this. Server: { fragment-server }.
pattern-github-exciter = Upload to GitHub

## Sizes ($n is already formatted)

size-bytes = { $n } B
size-kib = { $n } KiB
size-mib = { $n } MiB
size-gib = { $n } GiB

## Durations ($s, $min, $h are already formatted)

duration-seconds = { $s } s
duration-minutes = { $min } min
duration-minutes-seconds = { $min } min { $s } s
duration-hours = { $h } h
duration-hours-minutes = { $h } h { $min } min

## Counts

alerts-count =
    { $count ->
        [one] { $count } alert
       *[other] { $count } alerts
    }
alerts-ignored-count =
    { $count ->
        [one] { $count } ignored
       *[other] { $count } ignored
    }
no-alerts = No uploads worth mentioning.

## Alert state and actions

alert-ignored = ignored
alert-new = new
alert-ongoing = still going
alert-ended = stopped
# Said of an alert that stopped: total time and total amount.
alert-went-on = went on: { $duration }, { $size } in all
action-ignore-now = Ignore for now
action-ignore-always = Always ignore
action-ignore-15min = Ignore for 15 minutes
action-ignore-1h = Ignore for 1 hour
action-ignore-24h = Ignore for 24 hours
action-ignore-for = Ignore for { $duration }
action-show = Show details

## Labels

label-program = Program
label-pid = PID
label-destination = Sent to
label-owner = Owner
label-country = Country
label-amount = Amount
label-duration = Time
label-kind = Kind
label-mode = Mode

## Modes

mode-paranoid = paranoid
mode-paranoid-desc = Tell me about every upload, even from apps I trust.
mode-adequate = adequate
mode-adequate-desc = Tell me about uploads, but not from browsers and common apps.
mode-chill = chill
mode-chill-desc = Only tell me about uploads to places Leakwatch does not recognise.

## Command line

cli-watching = Watching outgoing traffic. Press Ctrl+C to stop.
cli-stopped = Stopped watching.
cli-bad-locale = Unknown language “{ $value }”. Use one of: { $valid }.

## ── Web UI of the tray app (ui/, issue 6). Every id here starts with `ui-`. ──
## Kept in one block; the same ids in the same order in locales/ru/leakwatch.ftl.

ui-app-title = Leakwatch
ui-nav-label = Sections
ui-nav-live = Live
ui-nav-history = History
ui-nav-ignores = Ignores
ui-nav-settings = Settings
ui-nav-about = About
ui-loading = Loading…
ui-refresh = Refresh
ui-dismiss = Dismiss
ui-error-backend = Leakwatch did not answer: { $error }
ui-time-just-now = just now
ui-time-ago = { $duration } ago
ui-rate = { $size }/s
ui-in-duration = in { $duration }
ui-pid = PID { $pid }
ui-unknown-owner = unknown owner
ui-bytes-exact =
    { $count ->
        [one] { $n } byte
       *[other] { $n } bytes
    }

# Status of the capture (engine_status / engine-status).
ui-status-watching = Watching
ui-status-paused = Paused
ui-status-paused-until = Paused until { $time }
ui-status-no-permission = No permission to capture
ui-status-no-permission-fix = Leakwatch may not read network traffic yet. To allow it, run:
ui-status-error = Capture stopped by an error

# Live page.
ui-alerts-heading = Uploads
ui-chart-title = Upload rate per program, last 10 minutes
ui-chart-empty = nothing sent yet
ui-chart-other = other programs
ui-chart-time = Time
ui-ignore-button = Ignore
ui-ignore-menu-label = Ignore alert { $id }

# History page.
ui-history-heading = History
ui-history-range = Period
ui-history-range-1h = last hour
ui-history-range-24h = last 24 hours
ui-history-range-7d = last 7 days
ui-history-range-30d = last 30 days
ui-history-program = Program
ui-history-all-programs = all programs
ui-history-chart-title = Data sent per program
ui-history-empty = nothing recorded in this period
ui-history-destinations = Top destinations
ui-history-destinations-of = Top destinations of { $program }
ui-history-col-organisation = Organisation
ui-history-col-country = Country
ui-history-col-sent = Sent
ui-history-alerts = Alert log
ui-history-search = Search alerts
ui-history-no-alerts = No alerts in this period.
ui-history-ignored = ignored: { $scope }
ui-history-export-csv = Export CSV
ui-history-export-json = Export JSON
ui-history-export-title = Export the history
ui-history-older = Nothing was recorded in this period. The newest record is from { $date }.
ui-history-show-newest = Show the period up to then
ui-history-anchored = Showing the period up to { $date }.
ui-history-back-to-now = Back to now
ui-history-exported = Saved to { $path }
ui-history-export-cancelled = Export cancelled.
ui-history-export-failed = Export failed: { $error }

# Details of an alert.
ui-back-to-live = Back to the list
ui-details-title = Alert { $id }
ui-details-missing = Alert { $id } is no longer in the list.
ui-field-exe = Program file
ui-field-hostname = Host name
ui-field-address = Address and port
ui-field-srcport = Local port
ui-field-asn = Network (AS)
ui-field-started = Started
ui-field-at = Last seen
ui-field-pattern = Matched pattern
ui-field-id = Alert number
ui-no-pattern = none: no known pattern matched
ui-details-filter-title = What an ignore will create
ui-details-filter-hint = Ignoring this alert adds exactly this filter. Later uploads that match it are not reported.

# Ignores page.
ui-ignores-empty = Nothing is ignored.
ui-ignore-unnamed = Unnamed filter
ui-scope-always = always
ui-scope-until = until { $time }
ui-scope-for-now = for now (until Leakwatch restarts)
ui-ignore-created = Added
ui-ignore-expires = Expires
ui-created-unknown = unknown (added before Leakwatch kept track)
ui-expires-never = never
ui-expires-restart = when Leakwatch restarts
ui-ignore-source = Added by
ui-source-user = you
ui-source-tray = you, from a notification or the tray
ui-source-legacy-socket = a local program over the legacy socket
ui-ignore-filter = Filter
ui-ignore-remove = Remove
ui-ignore-remove-label = Remove the ignore { $name }
ui-ignore-removed = Ignore { $id } removed.
ui-ignore-already-gone = Ignore { $id } was already gone.

# Settings page.
ui-settings-mode = Mode
ui-settings-thresholds = Thresholds
ui-settings-max-10s = Most data in 10 seconds (bytes)
ui-settings-max-10s-hint = More than this within 10 seconds is a sudden upload. At least { $min }.
ui-settings-min-leak = Smallest leak (bytes)
ui-settings-min-leak-hint = Steady and slow uploads count from this size.
ui-settings-realert = Re-alert cool-down (seconds)
ui-settings-realert-hint = A threat that was reported is not reported again for this long.
ui-settings-language = Language
ui-settings-language-hint = Applies at once.
ui-language-en = English
ui-language-ru = Русский
ui-settings-interfaces = Network interfaces
ui-settings-interfaces-all = every interface that is up
ui-settings-interfaces-hint = Names separated by commas. Empty: every interface that is up.
ui-settings-interfaces-now = Watching now: { $list }.
ui-settings-legacy = Legacy socket for old clients
ui-settings-legacy-port = Listening on 127.0.0.1, port { $port }.
ui-settings-legacy-off = Not listening.
ui-settings-legacy-hint = Local programs connected to it can see alerts and add ignores.
ui-settings-autostart = Start at login
ui-settings-save = Save
ui-settings-revert = Undo changes
ui-settings-saved = Saved.
ui-error-not-whole-number = { $field }: enter a whole number from { $min } to { $max }.
ui-error-out-of-range = { $field }: must be from { $min } to { $max }.
ui-error-choose-one = { $field }: choose one of the listed values.
ui-error-bad-interface = { $field }: “{ $name }” is not an interface name (up to { $max } letters, digits and . - _ @ :).
ui-error-too-many-interfaces = { $field }: at most { $max } interfaces.

# About page.
ui-about-title = About Leakwatch
ui-about-tagline = Leakwatch watches the traffic that leaves your computer and tells you when a program sends data out.
ui-about-version = Version
ui-about-status = Capture
ui-about-interfaces = Interfaces
ui-about-packets = Packets
ui-about-packets-value = { $rate } per second; dropped: { $packets } by the system, { $batches } batches by Leakwatch
ui-about-attributed = Traffic matched to a program
ui-about-legacy = Legacy socket
ui-about-rights-title = Rights to capture
ui-about-rights = Capturing traffic needs the capabilities cap_net_raw and cap_net_admin on the Leakwatch program (make install sets them). When they are missing, the capture status above shows the exact command to run.
ui-about-data-title = Network data
ui-about-data-dbip = IP to ASN data by DB-IP (https://db-ip.com), licensed CC BY 4.0.
ui-about-data-routeviews = IP to AS number data by Route Views (routeviews.org), licensed CC BY 4.0.
ui-about-data-nro = Statistics data and country data by the Number Resource Organization (nro.net), licensed CC BY 4.0.
ui-about-data-merge = Merged by sapics/ip-location-db (https://github.com/sapics/ip-location-db).
ui-about-data-license = CC BY 4.0: https://creativecommons.org/licenses/by/4.0/

# Programs and Connections pages (issue 20).
ui-nav-programs = Programs
ui-nav-connections = Connections
ui-back = Back
ui-programs-heading = Programs
ui-programs-search = Search programs
ui-programs-caption = Programs that sent data in the chosen period; the column buttons sort it
ui-programs-hint-now = What each program sent and received over the connections open now.
ui-programs-hint-history = What each program sent to and received from addresses outside your networks, from the history (received data counts when a connection ends).
ui-programs-empty = No program sent data in this period.
ui-programs-no-received = Received data is not kept in the history
ui-period-now = now
ui-period-1h = last hour
ui-period-today = today
ui-period-7d = last 7 days
ui-period-30d = last 30 days
ui-col-program = Program
ui-col-sent = Sent
ui-col-received = Received
ui-col-destinations = Destinations
ui-col-countries = Countries
ui-col-first = First seen
ui-col-last = Last seen
ui-col-alerts = Alerts
ui-col-destination = Destination
ui-col-proto = Protocol
ui-col-up = Up
ui-col-down = Down
ui-program-unknown = unknown program
ui-program-now = Connections now
ui-program-no-connections = No open connection now.
ui-program-destinations = Destinations, { $period }
ui-program-ignore-label = Ignore every upload of { $program }
ui-program-ignored = Uploads of { $program } are ignored now (see Ignores).
ui-program-no-path = Its executable is not known, so it cannot be ignored as a program.
ui-conn-heading = Connections now
ui-conn-caption = Open connections, the most recently active first
ui-conn-search = Search connections
ui-conn-hint = Updated every second. While the pointer is on the table, rows stay where they are.
ui-conn-count = { $shown } of { $count } open
ui-conn-empty = No open connection.
ui-conn-closed = closed
ui-nav-health = Health
ui-health-heading = Health
ui-health-all-good = Leakwatch sees everything it can: no problem found.
ui-health-problems =
    { $count ->
        [one] One problem keeps Leakwatch from seeing everything:
       *[other] { $count } problems keep Leakwatch from seeing everything:
    }
ui-health-fix = Fix:
ui-health-command = Command that fixes it
ui-health-source = Watching with
ui-health-source-service = the Leakwatch service
ui-health-source-embedded = an engine inside the app (your own rights)
ui-health-source-replay = a replayed capture file
ui-health-none = none
ui-health-tracing = Connection tracing
ui-health-on = on
ui-health-off = off
ui-health-not-applicable = does not apply
ui-health-attributed = Bytes with a known program, last minute
ui-health-nothing-sent = nothing sent
ui-health-of = of { $size }
ui-health-problems-badge = { $count } to fix
ui-programs-new = new
ui-programs-new-title = Never seen sending before
ui-settings-first-senders = Tell me when a new program starts sending
ui-settings-first-senders-auto = As the mode says (on in paranoid and adequate, off in chill)
ui-settings-first-senders-on = On
ui-settings-first-senders-off = Off
ui-settings-first-senders-hint = One notification the first time a program never seen before sends more than 8 KiB outside your networks.
## ── End of the web UI block. ──

## Tray app backend (src-tauri/): notifications and tray menu. Keys start with `app-`.

app-action-ignore-now = Ignore for now
app-action-always-ignore = Always ignore
app-open-to-ignore = Open Leakwatch to ignore it.
app-tray-open = Open Leakwatch
app-tray-recent = Recent alerts
app-tray-no-alerts = No alerts yet
app-tray-mode = Mode
app-mode-paranoid = Paranoid
app-mode-adequate = Adequate
app-mode-chill = Chill
app-tray-pause = Pause
app-pause-15m = For 15 minutes
app-pause-1h = For 1 hour
app-pause-until-resumed = Until resumed
app-tray-resume = Resume watching
app-tray-autostart = Start at login
app-tray-quit = Quit
app-tooltip-watching = Leakwatch: watching
app-tooltip-alert = Leakwatch: new alert
app-tooltip-paused = Leakwatch: paused
app-tooltip-no-permission = Leakwatch: not allowed to capture
app-no-permission = Without the service, watching needs capture rights that the app must never have. Start the Leakwatch service, which has them, and open Leakwatch without --embedded:
    sudo systemctl start leakwatch
app-service-not-running = The Leakwatch service is not running (nothing answers on { $socket }). Start it with:
    sudo systemctl start leakwatch
app-service-no-access = You ({ $user }) may not use the Leakwatch service: only root and members of group leakwatch may. Add yourself, then log out and in again:
    sudo usermod -aG leakwatch { $user }
app-service-connecting = Connecting to the Leakwatch service…
app-service-failed = The Leakwatch service cannot be used: { $error }
app-embedded-blind = Embedded mode, without the service: with your own rights Leakwatch cannot name other users' programs (system services, updaters) nor short-lived programs. The service sees them: sudo systemctl start leakwatch
app-tray-no-service = Service not running: sudo systemctl start leakwatch
app-tray-no-access = Not in group leakwatch: sudo usermod -aG leakwatch { $user }
app-tooltip-no-service = Leakwatch: the service is not running
app-foreign-frames =
    { $count ->
        [one] { $count } frame
       *[other] { $count } frames
    } with this computer's address as the source came from another device and { $count ->
        [one] was
       *[other] were
    } not counted as uploads. Another device on this network is using the same address, or forging it: check your network's address assignments.
app-legacy-title = Leakwatch: ignores changed by another program
app-legacy-ignore-now = A local program ({ $peer }) told Leakwatch over the legacy socket to ignore this until it restarts: { $filter }
app-legacy-ignore-always = A local program ({ $peer }) told Leakwatch over the legacy socket to ignore this for ever: { $filter }. If you did not ask for it, remove it under Ignores.
app-legacy-ignore-removed = A local program ({ $peer }) removed ignore { $id } ({ $name }) over the legacy socket.
app-legacy-ignore-refused = Leakwatch refused an ignore from a local program ({ $peer }) on the legacy socket: { $reason }
app-first-sender-title = New program sending: { $program }
app-first-sender-body = { $program } ({ $path }) sent data out for the first time: { $size } so far, to { $destination }.
app-health-not-watching = Leakwatch is not watching.
app-health-fix-see-above = Do what the message says; the window comes alive by itself.
app-health-paused = Detection is paused: nothing is counted.
app-health-fix-resume = Resume watching in the tray menu (or wait for the pause to end).
app-health-no-interfaces = No network interface is watched.
app-health-fix-interfaces = Check that the network is up, and Settings ▸ Interfaces (empty: every interface that is up).
app-health-fix-interfaces-service = Check that the network is up, and the interfaces setting of the service's configuration (/etc/leakwatch/leakwatch.toml), then reload it:
app-health-tracing-off = Connection tracing is off ({ $error }): the uploads of programs that live only a moment may have no program.
app-health-fix-tracing-service = The service needs root (or cap_perfmon) and the tracing file system; restart it and read its log (journalctl -u leakwatch):
app-health-fix-use-service = The Leakwatch service sees every program, short-lived ones too. Start it, and open Leakwatch without --embedded:
app-health-drops = { $what } Some uploads were not counted.
app-health-drops-packets =
    { $count ->
        [one] The system dropped { $count } packet because the capture buffer was full.
       *[other] The system dropped { $count } packets because the capture buffer was full.
    }
app-health-drops-batches =
    { $count ->
        [one] Leakwatch dropped { $count } batch of packets because detection fell behind.
       *[other] Leakwatch dropped { $count } batches of packets because detection fell behind.
    }
app-health-fix-drops = Watch fewer interfaces (Settings ▸ Interfaces), or use the service, which captures with a larger buffer.
app-health-fix-drops-service = Watch fewer interfaces (the interfaces setting in /etc/leakwatch/leakwatch.toml), or look at what loads this computer.
app-health-low-share = Only { $percent } % of the last minute's uploaded bytes could be given to a program.
app-health-fix-low-share-service = Programs of other network namespaces (containers) and very short connections may stay unnamed; check that connection tracing is on.
app-health-no-tray = No tray icon: the desktop shows no StatusNotifierItem tray, so this window opened at start instead.
app-health-fix-no-tray = On GNOME, the AppIndicator extension adds the tray (then log out and in again). Until then, starting leakwatch-app again opens this window.
app-health-interfaces =
    { $count ->
        [one] { $count } interface
       *[other] { $count } interfaces
    }
app-health-share = { $percent } % of the last minute attributed
app-health-tracing-on = connection tracing on
app-health-tracing-off-short = connection tracing OFF
