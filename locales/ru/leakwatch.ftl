# Сообщения Leakwatch, русский язык.
#
# Переменные в сообщениях (значения вставляются как есть):
#   $process  имя программы           $pid       номер процесса
#   $host     имя сервера             $ip        адрес сервера
#   $port     порт сервера            $org       владелец адреса
#   $country  страна адреса           $size      объём ("1,5 МиБ")
#   $duration время ("1 мин 5 с")     $kind      вид отправки (kind-*)
#   $proto    протокол ("ICMP")       $destinations  сколько адресов (spread)
#   $process-known, $has-port: "yes" или "no"; $host-known: "yes", "no" или "claimed" (владелец
#   адреса опровергает имя хоста), для фрагментов ниже.
# Отсутствующее значение показывается словом `unknown`.

## Общие слова

unknown = неизвестно
unknown-program = неизвестная программа

## Фрагменты сообщений

# Кто отправил данные: начало предложения (женский род: «программа»).
fragment-who =
    { $process-known ->
        [yes] Программа { $process } (PID { $pid })
       *[no] Неизвестная программа
    }
# Куда ушли данные.
fragment-server =
    { $host-known ->
        [yes] { $host } ({ $ip }, { fragment-port })
        [claimed] { $ip }, { fragment-port } (называет себя { $host }; адрес принадлежит { $org })
       *[no] { $ip }, { fragment-port }
    }
# Порт сервера или протокол, если портов у него нет (ICMP, GRE, ESP, …).
fragment-port =
    { $has-port ->
        [yes] порт { $port }
       *[no] по { $proto }
    }

## Виды отправки

kind-sudden = Внезапная отправка
kind-sudden-desc = Много данных за несколько секунд.
kind-active = Постоянная отправка
kind-active-desc = Данные уходят быстро и без перерыва уже какое-то время.
kind-passive = Медленная отправка
kind-passive-desc = Понемногу, но снова и снова в течение долгого времени.
kind-spread = Рассеянная отправка
kind-spread-desc = Одна программа за несколько секунд отправила много данных, понемногу на каждый из многих адресов.

## Сообщения для отправок, не подходящих ни под один известный шаблон

alert-sudden-msg = { fragment-who } внезапно отправила { $size } за { $duration } на { fragment-server }. Владелец: { $org }, страна: { $country }.
alert-sudden-exciter = Внезапная отправка
alert-active-msg = { fragment-who } непрерывно отправляет данные: { $size } за { $duration } на { fragment-server }. Владелец: { $org }, страна: { $country }.
alert-active-exciter = Постоянная отправка
alert-passive-msg = { fragment-who } понемногу, но упорно отправляет данные: { $size } за { $duration } на { fragment-server }. Владелец: { $org }, страна: { $country }.
alert-passive-exciter = Медленная, но упорная отправка
alert-spread-msg = { fragment-who } отправила { $size } за { $duration } на { $destinations } адресов, больше всего — на { fragment-server }. Владелец: { $org }, страна: { $country }.
alert-spread-exciter = Отправка, рассеянная по многим адресам

## Сообщения по шаблонам (id: имя шаблона строчными буквами, точки → дефисы)

pattern-default-msg = { $kind }: { fragment-who } отправила { $size } за { $duration } на { fragment-server }. Владелец: { $org }, страна: { $country }.
pattern-default-exciter = Данные уходят с компьютера

pattern-undefined-msg = С компьютера уходят данные, но откуда — неясно: { $size } за { $duration } на { fragment-server }.
pattern-undefined-exciter = Отправка из неясного источника
pattern-port-msg = Что-то на компьютере отправило { $size } за { $duration } на { fragment-server }. Найти программу не удалось.
pattern-port-exciter = Отправка неизвестной программой
pattern-ip-msg = За { $duration } на { fragment-server } ушло { $size } данных, но выяснить, какая программа их отправила, не удалось. Владелец адреса: { $org }, страна: { $country }.
pattern-ip-exciter = Отправка на незнакомый адрес
pattern-process-msg = { fragment-who } отправила { $size } за { $duration } на { fragment-server }. Владелец: { $org }, страна: { $country }.
pattern-process-exciter = Программа отправляет данные

pattern-yandex-msg = { fragment-who } отправила в Яндекс { $size } за { $duration }. Сервер: { fragment-server }.
pattern-yandex-exciter = Отправка в Яндекс
pattern-google-msg = { fragment-who } отправила в Google { $size } за { $duration }. Сервер: { fragment-server }.
pattern-google-exciter = Отправка в Google
pattern-google-cache-msg = { fragment-who } отправила на кеширующий сервер Google { $size } за { $duration }. Сервер: { fragment-server }.
pattern-google-cache-exciter = Отправка в кеш Google
pattern-amazon-msg = { fragment-who } отправила в Amazon { $size } за { $duration }. Сервер: { fragment-server }.
pattern-amazon-exciter = Отправка в Amazon
pattern-amazon-aws-msg = { fragment-who } отправила в облако Amazon (AWS) { $size } за { $duration }. Сервер: { fragment-server }.
pattern-amazon-aws-exciter = Отправка в облако Amazon
pattern-vkontakte-msg = { fragment-who } отправила во ВКонтакте { $size } за { $duration }. Сервер: { fragment-server }.
pattern-vkontakte-exciter = Отправка во ВКонтакте
pattern-mailru-msg = { fragment-who } отправила в Mail.ru { $size } за { $duration }. Сервер: { fragment-server }.
pattern-mailru-exciter = Отправка в Mail.ru
pattern-microsoft-msg = { fragment-who } отправила в Microsoft { $size } за { $duration }. Сервер: { fragment-server }.
pattern-microsoft-exciter = Отправка в Microsoft
pattern-microsoft-updates-msg = { fragment-who } отправила на серверы обновлений Microsoft { $size } за { $duration }. Скорее всего, это Центр обновления Windows. Сервер: { fragment-server }.
pattern-microsoft-updates-exciter = Обновление Windows
pattern-microsoft-azure-msg = { fragment-who } отправила в облако Microsoft (Azure) { $size } за { $duration }. Сервер: { fragment-server }.
pattern-microsoft-azure-exciter = Отправка в облако Microsoft

pattern-stdapps-msg = Распространённое приложение. { fragment-who } отправила { $size } за { $duration } на { fragment-server }.
pattern-stdapps-exciter = Отправка распространённым приложением
pattern-stdapp-skype-msg = Skype. { fragment-who } отправила { $size } за { $duration } на { fragment-server }. Так бывает во время звонков и при передаче файлов.
pattern-stdapp-skype-exciter = Skype отправляет данные
pattern-stdapp-steam-msg = Steam. { fragment-who } отправила { $size } за { $duration } на { fragment-server }. Так бывает в играх и при сохранении в облако.
pattern-stdapp-steam-exciter = Steam отправляет данные
pattern-stdapp-torrentclient-msg = Торрент-клиент. { fragment-who } отправила { $size } за { $duration } на { fragment-server }. Он раздаёт файлы другим людям.
pattern-stdapp-torrentclient-exciter = Торрент-клиент раздаёт файлы
pattern-stdapp-dropbox-msg = Dropbox. { fragment-who } отправила { $size } за { $duration } на { fragment-server }. Идёт синхронизация ваших файлов.
pattern-stdapp-dropbox-exciter = Dropbox синхронизирует файлы
pattern-stdapp-browser-msg = Браузер. { fragment-who } отправила с одной из вкладок { $size } за { $duration } на { fragment-server }. Владелец: { $org }.
pattern-stdapp-browser-exciter = Браузер отправляет данные
pattern-stdapp-browser-google-msg = Браузер. { fragment-who } отправила с одной из вкладок в Google { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-google-exciter = Браузер отправляет данные в Google
pattern-stdapp-browser-yandex-msg = Браузер. { fragment-who } отправила с одной из вкладок в Яндекс { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-yandex-exciter = Браузер отправляет данные в Яндекс
pattern-stdapp-browser-yandex-statica-msg = Браузер. { fragment-who } отправила с одной из вкладок на серверы статики Яндекса { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-yandex-statica-exciter = Браузер отправляет данные в Яндекс
pattern-stdapp-browser-vkontakte-msg = Браузер. { fragment-who } отправила с одной из вкладок во ВКонтакте { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-vkontakte-exciter = Браузер отправляет данные во ВКонтакте
pattern-stdapp-browser-metrica-yandex-msg = Яндекс Метрика, счётчик посетителей сайтов, собрала из вашего браузера { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-metrica-yandex-exciter = Слежка Яндекс Метрики
pattern-stdapp-browser-metrica-mailru-msg = Счётчик посетителей Mail.ru собрал из вашего браузера { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-metrica-mailru-exciter = Слежка счётчика Mail.ru
pattern-stdapp-browser-amazon-aws-msg = Браузер. { fragment-who } отправила с одной из вкладок в облако Amazon (AWS) { $size } за { $duration }. Сервер: { fragment-server }.
pattern-stdapp-browser-amazon-aws-exciter = Браузер отправляет данные в облако Amazon

pattern-apple-msg = { fragment-who } отправила в Apple (iCloud) { $size } за { $duration }. Сервер: { fragment-server }.
pattern-apple-exciter = Отправка в Apple
pattern-meta-msg = { fragment-who } отправила в Meta (Facebook, Instagram, WhatsApp) { $size } за { $duration }. Сервер: { fragment-server }.
pattern-meta-exciter = Отправка в Meta
pattern-cloudflare-msg = { fragment-who } отправила через Cloudflare { $size } за { $duration }. Cloudflare обслуживает множество сайтов, и настоящим получателем может быть любой из них. Сервер: { fragment-server }.
pattern-cloudflare-exciter = Отправка через Cloudflare
pattern-akamai-msg = { fragment-who } отправила через Akamai { $size } за { $duration }. Akamai обслуживает множество компаний, и настоящим получателем может быть любая из них. Сервер: { fragment-server }.
pattern-akamai-exciter = Отправка через Akamai
pattern-fastly-msg = { fragment-who } отправила через Fastly { $size } за { $duration }. Fastly обслуживает множество сайтов, и настоящим получателем может быть любой из них. Сервер: { fragment-server }.
pattern-fastly-exciter = Отправка через Fastly
pattern-digitalocean-msg = { fragment-who } отправила { $size } за { $duration } на сервер, арендованный в DigitalOcean. Арендовать такой может кто угодно. Сервер: { fragment-server }.
pattern-digitalocean-exciter = Отправка на сервер DigitalOcean
pattern-hetzner-msg = { fragment-who } отправила { $size } за { $duration } на сервер, арендованный в Hetzner. Арендовать такой может кто угодно. Сервер: { fragment-server }.
pattern-hetzner-exciter = Отправка на сервер Hetzner
pattern-ovh-msg = { fragment-who } отправила { $size } за { $duration } на сервер, арендованный в OVH. Арендовать такой может кто угодно. Сервер: { fragment-server }.
pattern-ovh-exciter = Отправка на сервер OVH
pattern-telegram-msg = { fragment-who } отправила в Telegram { $size } за { $duration }. Сервер: { fragment-server }.
pattern-telegram-exciter = Отправка в Telegram
pattern-zoom-msg = { fragment-who } отправила в Zoom { $size } за { $duration }. Так бывает во время звонка или показа экрана. Сервер: { fragment-server }.
pattern-zoom-exciter = Отправка в Zoom
pattern-slack-msg = { fragment-who } отправила в Slack { $size } за { $duration }. Сервер: { fragment-server }.
pattern-slack-exciter = Отправка в Slack
pattern-discord-msg = { fragment-who } отправила в Discord { $size } за { $duration }. Сервер: { fragment-server }.
pattern-discord-exciter = Отправка в Discord
pattern-spotify-msg = { fragment-who } отправила в Spotify { $size } за { $duration }. Сервер: { fragment-server }.
pattern-spotify-exciter = Отправка в Spotify
pattern-github-msg = { fragment-who } отправила в GitHub { $size } за { $duration }. Так бывает при отправке кода. Сервер: { fragment-server }.
pattern-github-exciter = Отправка в GitHub

## Размеры ($n уже отформатировано)

size-bytes = { $n } Б
size-kib = { $n } КиБ
size-mib = { $n } МиБ
size-gib = { $n } ГиБ

## Время ($s, $min, $h уже отформатированы)

duration-seconds = { $s } с
duration-minutes = { $min } мин
duration-minutes-seconds = { $min } мин { $s } с
duration-hours = { $h } ч
duration-hours-minutes = { $h } ч { $min } мин

## Счётчики

alerts-count =
    { $count ->
        [one] { $count } предупреждение
        [few] { $count } предупреждения
        [many] { $count } предупреждений
       *[other] { $count } предупреждения
    }
alerts-ignored-count =
    { $count ->
        [one] { $count } скрыто
       *[other] { $count } скрыто
    }
no-alerts = Ничего заслуживающего внимания не отправлялось.

## Состояние предупреждения и действия

alert-ignored = скрыто
alert-new = новое
alert-ongoing = продолжается
alert-ended = закончилось
# О закончившейся отправке: сколько длилась и сколько всего ушло.
alert-went-on = длилось: { $duration }, всего { $size }
action-ignore-now = Пока не показывать
action-ignore-always = Больше никогда не показывать
action-ignore-15min = Не показывать 15 минут
action-ignore-1h = Не показывать 1 час
action-ignore-24h = Не показывать 24 часа
action-ignore-for = Не показывать { $duration }
action-show = Подробнее

## Подписи

label-program = Программа
label-pid = PID
label-destination = Куда
label-owner = Владелец
label-country = Страна
label-amount = Объём
label-duration = Время
label-kind = Вид
label-mode = Режим

## Режимы

mode-paranoid = параноидальный
mode-paranoid-desc = Сообщать о любой отправке, даже от привычных программ.
mode-adequate = разумный
mode-adequate-desc = Сообщать об отправках, кроме браузеров и распространённых программ.
mode-chill = спокойный
mode-chill-desc = Сообщать только об отправках на адреса, незнакомые Leakwatch.

## Командная строка

cli-watching = Слежу за исходящим трафиком. Нажмите Ctrl+C, чтобы остановить.
cli-stopped = Наблюдение остановлено.
cli-bad-locale = Неизвестный язык «{ $value }». Допустимые значения: { $valid }.

## ── Веб-интерфейс приложения в трее (ui/, задача 6). Все идентификаторы начинаются с `ui-`. ──
## Один блок; те же идентификаторы в том же порядке, что в locales/en/leakwatch.ftl.

ui-app-title = Leakwatch
ui-nav-label = Разделы
ui-nav-live = Сейчас
ui-nav-history = История
ui-nav-ignores = Исключения
ui-nav-settings = Настройки
ui-nav-about = О программе
ui-loading = Загрузка…
ui-refresh = Обновить
ui-dismiss = Скрыть
ui-error-backend = Leakwatch не ответил: { $error }
ui-time-just-now = только что
ui-time-ago = { $duration } назад
ui-rate = { $size }/с
ui-in-duration = за { $duration }
ui-pid = PID { $pid }
ui-unknown-owner = владелец неизвестен
ui-bytes-exact =
    { $count ->
        [one] { $n } байт
        [few] { $n } байта
       *[other] { $n } байт
    }

# Состояние перехвата (engine_status / engine-status).
ui-status-watching = Наблюдаю
ui-status-paused = На паузе
ui-status-paused-until = На паузе до { $time }
ui-status-no-permission = Нет прав на перехват
ui-status-no-permission-fix = Leakwatch пока не может читать сетевой трафик. Чтобы разрешить, выполните:
ui-status-error = Перехват остановлен из-за ошибки

# Страница «Сейчас».
ui-alerts-heading = Отправки
ui-chart-title = Скорость отправки по программам за последние 10 минут
ui-chart-empty = пока ничего не отправлялось
ui-chart-other = другие программы
ui-chart-time = Время
ui-ignore-button = Не показывать
ui-ignore-menu-label = Не показывать предупреждение { $id }

# Страница истории.
ui-history-heading = История
ui-history-range = Период
ui-history-range-1h = последний час
ui-history-range-24h = последние 24 часа
ui-history-range-7d = последние 7 дней
ui-history-range-30d = последние 30 дней
ui-history-program = Программа
ui-history-all-programs = все программы
ui-history-chart-title = Отправлено данных по программам
ui-history-empty = за этот период ничего не записано
ui-history-destinations = Главные получатели
ui-history-destinations-of = Главные получатели для { $program }
ui-history-col-organisation = Организация
ui-history-col-country = Страна
ui-history-col-sent = Отправлено
ui-history-alerts = Журнал предупреждений
ui-history-search = Поиск по предупреждениям
ui-history-no-alerts = За этот период предупреждений нет.
ui-history-ignored = игнорируется: { $scope }
ui-history-export-csv = Экспорт в CSV
ui-history-export-json = Экспорт в JSON
ui-history-export-title = Экспорт истории
ui-history-older = За этот период ничего не записано. Последняя запись — от { $date }.
ui-history-show-newest = Показать период до этой даты
ui-history-anchored = Показан период до { $date }.
ui-history-back-to-now = Вернуться к текущему времени
ui-history-exported = Сохранено в { $path }
ui-history-export-cancelled = Экспорт отменён.
ui-history-export-failed = Экспорт не удался: { $error }

# Подробности предупреждения.
ui-back-to-live = Назад к списку
ui-details-title = Предупреждение { $id }
ui-details-missing = Предупреждения { $id } больше нет в списке.
ui-field-exe = Файл программы
ui-field-hostname = Имя сервера
ui-field-address = Адрес и порт
ui-field-srcport = Локальный порт
ui-field-asn = Сеть (AS)
ui-field-started = Началось
ui-field-at = Последний раз
ui-field-pattern = Подошедший шаблон
ui-field-id = Номер предупреждения
ui-no-pattern = нет: ни один известный шаблон не подошёл
ui-details-filter-title = Что создаст исключение
ui-details-filter-hint = Если скрыть это предупреждение, добавится ровно этот фильтр. О подходящих под него отправках Leakwatch сообщать не будет.

# Страница исключений.
ui-ignores-empty = Исключений нет.
ui-ignore-unnamed = Фильтр без имени
ui-scope-always = всегда
ui-scope-until = до { $time }
ui-scope-for-now = пока (до перезапуска Leakwatch)
ui-ignore-created = Добавлено
ui-ignore-expires = Истекает
ui-created-unknown = неизвестно (добавлено до того, как Leakwatch стал это записывать)
ui-expires-never = никогда
ui-expires-restart = при перезапуске Leakwatch
ui-ignore-source = Кто добавил
ui-source-user = вы
ui-source-tray = вы, из уведомления или меню в трее
ui-source-legacy-socket = локальная программа через старый сокет
ui-ignore-filter = Фильтр
ui-ignore-remove = Удалить
ui-ignore-remove-label = Удалить исключение { $name }
ui-ignore-removed = Исключение { $id } удалено.
ui-ignore-already-gone = Исключения { $id } уже нет.

# Настройки.
ui-settings-mode = Режим
ui-settings-thresholds = Пороги
ui-settings-max-10s = Наибольший объём за 10 секунд (байт)
ui-settings-max-10s-hint = Если за 10 секунд отправлено больше, это внезапная отправка. Не меньше { $min }.
ui-settings-min-leak = Наименьшая утечка (байт)
ui-settings-min-leak-hint = Непрерывные и медленные отправки считаются с этого объёма.
ui-settings-realert = Пауза перед повторным предупреждением (секунд)
ui-settings-realert-hint = О той же угрозе Leakwatch не сообщит снова в течение этого времени.
ui-settings-language = Язык
ui-settings-language-hint = Меняется сразу.
ui-language-en = English
ui-language-ru = Русский
ui-settings-interfaces = Сетевые интерфейсы
ui-settings-interfaces-all = все включённые интерфейсы
ui-settings-interfaces-hint = Имена через запятую. Пусто: все включённые интерфейсы.
ui-settings-interfaces-now = Сейчас наблюдаю: { $list }.
ui-settings-legacy = Старый сокет для прежних клиентов
ui-settings-legacy-port = Слушает 127.0.0.1, порт { $port }.
ui-settings-legacy-off = Не слушает.
ui-settings-legacy-hint = Подключённые к нему локальные программы видят предупреждения и могут добавлять исключения.
ui-settings-autostart = Запускать при входе в систему
ui-settings-save = Сохранить
ui-settings-revert = Отменить изменения
ui-settings-saved = Сохранено.
ui-error-not-whole-number = { $field }: введите целое число от { $min } до { $max }.
ui-error-out-of-range = { $field }: значение должно быть от { $min } до { $max }.
ui-error-choose-one = { $field }: выберите одно из предложенных значений.
ui-error-bad-interface = { $field }: «{ $name }» — не имя интерфейса (до { $max } латинских букв, цифр и . - _ @ :).
ui-error-too-many-interfaces = { $field }: не больше { $max } интерфейсов.

# О программе.
ui-about-title = О Leakwatch
ui-about-tagline = Leakwatch следит за трафиком, который уходит с вашего компьютера, и сообщает, когда программа отправляет данные.
ui-about-version = Версия
ui-about-status = Перехват
ui-about-interfaces = Интерфейсы
ui-about-packets = Пакеты
ui-about-packets-value = { $rate } в секунду; потеряно: { $packets } системой, { $batches } пачек Leakwatch
ui-about-attributed = Трафик, отнесённый к программам
ui-about-legacy = Старый сокет
ui-about-rights-title = Права на перехват
ui-about-rights = Для перехвата трафика программе Leakwatch нужны права cap_net_raw и cap_net_admin (их выдаёт make install). Если их нет, в состоянии перехвата выше показана точная команда.
ui-about-data-title = Сетевые данные
ui-about-data-dbip = Данные IP → ASN: DB-IP (https://db-ip.com), лицензия CC BY 4.0.
ui-about-data-routeviews = Данные IP → номер AS: Route Views (routeviews.org), лицензия CC BY 4.0.
ui-about-data-nro = Статистика и данные о странах: Number Resource Organization (nro.net), лицензия CC BY 4.0.
ui-about-data-merge = Объединены проектом sapics/ip-location-db (https://github.com/sapics/ip-location-db).
ui-about-data-license = CC BY 4.0: https://creativecommons.org/licenses/by/4.0/

# Programs and Connections pages (issue 20).
ui-nav-programs = Программы
ui-nav-connections = Соединения
ui-back = Назад
ui-programs-heading = Программы
ui-programs-search = Поиск программ
ui-programs-caption = Программы, отправлявшие данные за выбранный период; кнопки в заголовках столбцов сортируют таблицу
ui-programs-hint-now = Сколько каждая программа отправила и получила по соединениям, открытым сейчас.
ui-programs-hint-history = Сколько каждая программа отправила на адреса вне ваших сетей и получила с них, по истории (полученное учитывается, когда соединение закрывается).
ui-programs-empty = За этот период ни одна программа не отправляла данных.
ui-programs-no-received = Полученные данные в истории не хранятся
ui-period-now = сейчас
ui-period-1h = последний час
ui-period-today = сегодня
ui-period-7d = последние 7 дней
ui-period-30d = последние 30 дней
ui-col-program = Программа
ui-col-sent = Отправлено
ui-col-received = Получено
ui-col-destinations = Адресаты
ui-col-countries = Страны
ui-col-first = Впервые
ui-col-last = Последний раз
ui-col-alerts = Оповещения
ui-col-destination = Куда
ui-col-proto = Протокол
ui-col-up = Отдача
ui-col-down = Приём
ui-program-unknown = неизвестная программа
ui-program-now = Соединения сейчас
ui-program-no-connections = Открытых соединений сейчас нет.
ui-program-destinations = Адресаты, { $period }
ui-program-ignore-label = Не показывать отправки программы { $program }
ui-program-ignored = Отправки программы { $program } больше не показываются (см. «Исключения»).
ui-program-no-path = Исполняемый файл неизвестен, поэтому программу нельзя исключить целиком.
ui-conn-heading = Соединения сейчас
ui-conn-caption = Открытые соединения, сначала самые недавно активные
ui-conn-search = Поиск соединений
ui-conn-hint = Обновляется каждую секунду. Пока указатель над таблицей, строки не двигаются.
ui-conn-count = открыто: { $shown } из { $count }
ui-conn-empty = Открытых соединений нет.
ui-conn-closed = закрыто
ui-nav-health = Состояние
ui-health-heading = Состояние
ui-health-all-good = Leakwatch видит всё, что может: проблем не найдено.
ui-health-problems =
    { $count ->
        [one] { $count } проблема мешает Leakwatch видеть всё:
        [few] { $count } проблемы мешают Leakwatch видеть всё:
        [many] { $count } проблем мешают Leakwatch видеть всё:
       *[other] { $count } проблемы мешают Leakwatch видеть всё:
    }
ui-health-fix = Что сделать:
ui-health-command = Команда, которая это исправит
ui-health-source = Наблюдает
ui-health-source-service = служба Leakwatch
ui-health-source-embedded = движок внутри приложения (с вашими правами)
ui-health-source-replay = воспроизведение файла захвата
ui-health-none = нет
ui-health-tracing = Отслеживание соединений
ui-health-on = включено
ui-health-off = выключено
ui-health-not-applicable = неприменимо
ui-health-attributed = Байты с известной программой, последняя минута
ui-health-nothing-sent = ничего не отправлено
ui-health-of = из { $size }
ui-health-problems-badge = исправить: { $count }
ui-programs-new = новая
ui-programs-new-title = Раньше не отправляла данных
ui-settings-first-senders = Сообщать, когда новая программа начинает отправлять данные
ui-settings-first-senders-auto = Как велит режим (вкл. в параноидальном и разумном, выкл. в спокойном)
ui-settings-first-senders-on = Включено
ui-settings-first-senders-off = Выключено
ui-settings-first-senders-hint = Одно уведомление, когда программа, которую раньше не видели, впервые отправит за пределы ваших сетей больше 8 КиБ.
## ── Конец блока веб-интерфейса. ──

## Приложение в трее (src-tauri/): уведомления и меню. Ключи начинаются с `app-`.

app-action-ignore-now = Пока игнорировать
app-action-always-ignore = Игнорировать всегда
app-open-to-ignore = Откройте Leakwatch, чтобы игнорировать.
app-tray-open = Открыть Leakwatch
app-tray-recent = Последние тревоги
app-tray-no-alerts = Тревог пока нет
app-tray-mode = Режим
app-mode-paranoid = Параноидальный
app-mode-adequate = Разумный
app-mode-chill = Спокойный
app-tray-pause = Пауза
app-pause-15m = На 15 минут
app-pause-1h = На 1 час
app-pause-until-resumed = До возобновления
app-tray-resume = Возобновить наблюдение
app-tray-autostart = Запускать при входе
app-tray-quit = Выход
app-tooltip-watching = Leakwatch: наблюдение
app-tooltip-alert = Leakwatch: новая тревога
app-tooltip-paused = Leakwatch: пауза
app-tooltip-no-permission = Leakwatch: нет права на захват
app-no-permission = Без службы для наблюдения нужны права на захват, которых у приложения не должно быть никогда. Запустите службу Leakwatch (у неё эти права есть) и откройте Leakwatch без --embedded:
    sudo systemctl start leakwatch
app-service-not-running = Служба Leakwatch не запущена (на { $socket } никто не отвечает). Запустите её:
    sudo systemctl start leakwatch
app-service-no-access = Вам ({ $user }) нельзя пользоваться службой Leakwatch: можно только root и членам группы leakwatch. Добавьте себя в группу, затем выйдите из системы и войдите снова:
    sudo usermod -aG leakwatch { $user }
app-service-connecting = Подключение к службе Leakwatch…
app-service-failed = Службой Leakwatch нельзя воспользоваться: { $error }
app-embedded-blind = Встроенный режим, без службы: с вашими правами Leakwatch не может назвать программы других пользователей (системные службы, обновления) и короткоживущие программы. Служба их видит: sudo systemctl start leakwatch
app-tray-no-service = Служба не запущена: sudo systemctl start leakwatch
app-tray-no-access = Вы не в группе leakwatch: sudo usermod -aG leakwatch { $user }
app-tooltip-no-service = Leakwatch: служба не запущена
app-foreign-frames = Другое устройство присылает кадры с адресом этого компьютера в качестве отправителя; они не учтены как отправка данных (всего: { $count }). Другое устройство в этой сети использует тот же адрес или подделывает его: проверьте, как в сети раздаются адреса.
app-legacy-title = Leakwatch: исключения изменила другая программа
app-legacy-ignore-now = Локальная программа ({ $peer }) через старый сокет велела Leakwatch не замечать до перезапуска: { $filter }
app-legacy-ignore-always = Локальная программа ({ $peer }) через старый сокет велела Leakwatch не замечать всегда: { $filter }. Если это не вы, удалите исключение на странице «Исключения».
app-legacy-ignore-removed = Локальная программа ({ $peer }) через старый сокет удалила исключение { $id } ({ $name }).
app-legacy-ignore-refused = Leakwatch отклонил исключение от локальной программы ({ $peer }) через старый сокет: { $reason }
app-first-sender-title = Новая программа отправляет данные: { $program }
app-first-sender-body = { $program } ({ $path }) впервые отправляет данные наружу: уже { $size }, адресат { $destination }.
app-health-not-watching = Leakwatch не наблюдает за трафиком.
app-health-fix-see-above = Сделайте то, что сказано в сообщении; окно оживёт само.
app-health-paused = Обнаружение приостановлено: ничего не учитывается.
app-health-fix-resume = Возобновите наблюдение в меню значка (или дождитесь конца паузы).
app-health-no-interfaces = Ни один сетевой интерфейс не наблюдается.
app-health-fix-interfaces = Проверьте, что сеть подключена, и «Настройки ▸ Интерфейсы» (пусто: все включённые интерфейсы).
app-health-fix-interfaces-service = Проверьте, что сеть подключена, и параметр interfaces в настройках службы (/etc/leakwatch/leakwatch.toml), затем перечитайте их:
app-health-tracing-off = Отслеживание соединений выключено ({ $error }): у отправок программ, живущих лишь миг, может не найтись программы.
app-health-fix-tracing-service = Службе нужны права root (или cap_perfmon) и файловая система tracing; перезапустите её и посмотрите журнал (journalctl -u leakwatch):
app-health-fix-use-service = Служба Leakwatch видит все программы, и короткоживущие тоже. Запустите её и откройте Leakwatch без --embedded:
app-health-drops = { $what } Часть отправок не учтена.
app-health-drops-packets =
    { $count ->
        [one] Система отбросила { $count } пакет: буфер захвата был полон.
        [few] Система отбросила { $count } пакета: буфер захвата был полон.
        [many] Система отбросила { $count } пакетов: буфер захвата был полон.
       *[other] Система отбросила { $count } пакета: буфер захвата был полон.
    }
app-health-drops-batches =
    { $count ->
        [one] Leakwatch отбросил { $count } пачку пакетов: обнаружение не успевало.
        [few] Leakwatch отбросил { $count } пачки пакетов: обнаружение не успевало.
        [many] Leakwatch отбросил { $count } пачек пакетов: обнаружение не успевало.
       *[other] Leakwatch отбросил { $count } пачки пакетов: обнаружение не успевало.
    }
app-health-fix-drops = Наблюдайте меньше интерфейсов («Настройки ▸ Интерфейсы») или используйте службу: она захватывает с большим буфером.
app-health-fix-drops-service = Наблюдайте меньше интерфейсов (параметр interfaces в /etc/leakwatch/leakwatch.toml) или выясните, что нагружает компьютер.
app-health-low-share = Лишь { $percent } % отправленных за последнюю минуту байт удалось отнести к программе.
app-health-fix-low-share-service = Программы других сетевых пространств имён (контейнеров) и очень короткие соединения могут остаться без имени; проверьте, что отслеживание соединений включено.
app-health-no-tray = Нет значка в трее: рабочий стол не показывает трей StatusNotifierItem, поэтому при запуске открылось это окно.
app-health-fix-no-tray = В GNOME трей добавляет расширение AppIndicator (затем выйдите из сеанса и войдите снова). До тех пор повторный запуск leakwatch-app открывает это окно.
app-health-interfaces =
    { $count ->
        [one] { $count } интерфейс
        [few] { $count } интерфейса
        [many] { $count } интерфейсов
       *[other] { $count } интерфейса
    }
app-health-share = { $percent } % байт последней минуты с программой
app-health-tracing-on = отслеживание соединений включено
app-health-tracing-off-short = отслеживание соединений ВЫКЛЮЧЕНО
