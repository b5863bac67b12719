// First: a usable navigator.language before any library reads it (see locale-guard.ts).
import './locale-guard';
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './components/App';
import { isLocale } from './i18n';

// Until get_settings answers, follow the system language.
const sys = navigator.language.slice(0, 2).toLowerCase();
render(<App initialLocale={isLocale(sys) ? sys : 'en'} />, document.getElementById('app')!);
