// Mounts the settings view on desktop/index.html (used by the end-to-end test and as a fallback page).
import { mount } from './settings.js';

mount(document.getElementById('desktop-settings'));
