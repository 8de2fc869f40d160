// Loaded with --import before happy-dom unit tests: a browser-like global scope (window,
// document, custom elements, EventTarget) and a real IndexedDB stand-in (fake-indexeddb).
import { GlobalRegistrator } from '@happy-dom/global-registrator';
import 'fake-indexeddb/auto';

GlobalRegistrator.register({ url: 'http://localhost:8787/', width: 1280, height: 720 });
