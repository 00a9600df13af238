// Mounts the settings view on desktop/index.html (used by the end-to-end test and as a fallback page).
import { mount } from './settings.js';

const section = document.getElementById('desktop-settings');
section.hidden = false;
mount(section);
