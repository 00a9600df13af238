// Bucketstream desktop settings: S3 bucket (secret kept in the OS keyring), .env import, LAN sharing,
// and other apps: the Subsonic API's sign-in (password in the OS keyring) and the DLNA switch.
//
// Loaded only inside the Tauri app. The player calls `mount(sectionEl, api)`; the standalone
// page desktop/index.html does the same. Every action is one Tauri command; errors arrive
// as {code, message} and are shown as the message. Secrets are never displayed or echoed:
// the backend answers "set" / "not set".

import { bucketNameProblem } from './bucket-name.js';

const LAN_POLL_MS = 3000;

function tauriInvoke(api) {
  if (api && typeof api.invoke === 'function') return (cmd, args) => api.invoke(cmd, args);
  const internals = window.__TAURI_INTERNALS__;
  if (!internals) throw new Error('not running inside the Bucketstream app');
  return (cmd, args) => internals.invoke(cmd, args);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else if (value !== false && value != null) node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function field(label, input, hint) {
  return el('label', { class: 'bs-field' }, el('span', { text: label }), input,
    hint ? el('small', { text: hint }) : null);
}

function errorText(err) {
  if (err && typeof err === 'object' && err.message) return err.message;
  return String(err);
}

function ensureStyles() {
  if (document.getElementById('bs-desktop-settings-css')) return;
  const link = el('link', { id: 'bs-desktop-settings-css', rel: 'stylesheet' });
  link.href = new URL('./settings.css', import.meta.url).href;
  document.head.append(link);
}

export function mount(section, api) {
  const invoke = tauriInvoke(api);
  ensureStyles();
  // Visibility is the host page's (the player's settings button); this only fills the section.
  section.classList.add('bs-settings');
  section.replaceChildren();

  const status = el('p', { class: 'bs-status', id: 'bs-library-status', role: 'status' });
  const message = el('p', { class: 'bs-message', id: 'bs-message', 'aria-live': 'polite' });
  const keyringWarning = el('p', { class: 'bs-warning', id: 'bs-keyring-warning', hidden: true });
  const envWarning = el('p', { class: 'bs-warning', id: 'bs-env-warning', hidden: true });

  const inputs = {
    bucket: el('input', { id: 'bs-bucket', name: 'bucket', required: true, autocomplete: 'off', spellcheck: 'false' }),
    region: el('input', { id: 'bs-region', name: 'region', placeholder: 'us-east-1', autocomplete: 'off' }),
    endpoint: el('input', { id: 'bs-endpoint', name: 'endpoint', placeholder: 'https://s3.example.com (S3-compatible stores)', autocomplete: 'off', spellcheck: 'false' }),
    prefix: el('input', { id: 'bs-prefix', name: 'prefix', placeholder: 'music/', autocomplete: 'off' }),
    path_style: el('input', { id: 'bs-path-style', name: 'path_style', type: 'checkbox' }),
    access_key_id: el('input', { id: 'bs-access-key-id', name: 'access_key_id', autocomplete: 'off', spellcheck: 'false' }),
    secret_access_key: el('input', { id: 'bs-secret', name: 'secret_access_key', type: 'password', autocomplete: 'new-password' }),
    session_token: el('input', { id: 'bs-session-token', name: 'session_token', type: 'password', autocomplete: 'off' }),
  };
  const credState = el('span', { id: 'bs-credentials-state', class: 'bs-pill' });
  let pathStyleTouched = false;
  inputs.path_style.addEventListener('change', () => { pathStyleTouched = true; });
  inputs.endpoint.addEventListener('input', () => {
    if (!pathStyleTouched) inputs.path_style.checked = inputs.endpoint.value.trim() !== '';
  });

  function formValue() {
    const text = (k) => inputs[k].value.trim() || null;
    return {
      bucket: inputs.bucket.value.trim(),
      region: text('region'),
      endpoint: text('endpoint'),
      prefix: text('prefix'),
      // Untouched: let the core decide (on when an endpoint is set).
      path_style: pathStyleTouched ? inputs.path_style.checked : null,
      access_key_id: text('access_key_id'),
      secret_access_key: text('secret_access_key'),
      session_token: text('session_token'),
    };
  }

  function say(text, kind = 'ok', code = '') {
    message.textContent = text;
    message.dataset.kind = kind;
    message.dataset.code = code;
  }

  function clearSecrets() {
    inputs.secret_access_key.value = '';
    inputs.session_token.value = '';
  }

  function showSettings(s) {
    status.textContent = `Playing from ${s.location} (${s.source === 's3' ? 'S3 bucket' : 'local folders'})`;
    inputs.bucket.value = s.bucket || '';
    checkBucketName();
    inputs.region.value = s.region || '';
    inputs.endpoint.value = s.endpoint || '';
    inputs.prefix.value = s.prefix || '';
    inputs.path_style.checked = s.path_style ?? Boolean(s.endpoint);
    pathStyleTouched = s.path_style != null;
    credState.textContent = s.credentials === 'set'
      ? 'Credentials: set (in the OS keyring)'
      : `Credentials: not set (using the ${s.credentials_from})`;
    credState.dataset.state = s.credentials;
    inputs.secret_access_key.placeholder = s.credentials === 'set' ? 'stored in the keyring; type to replace' : '';
    keyringWarning.hidden = !s.keyring_unavailable;
    keyringWarning.textContent = s.keyring_unavailable || '';
    envWarning.hidden = s.env_overrides.length === 0;
    envWarning.textContent = s.env_overrides.length
      ? `These environment variables override the saved settings: ${s.env_overrides.join(', ')}.` : '';
    lanToggle.checked = s.lan_enabled;
    portInput.value = String(s.port);
  }

  // The media server restarted (new library, LAN switch or port): tell the player, with the
  // current media base (it changes only with the port), and reconnect its WebSocket now.
  async function libraryChanged() {
    let mediaBase = null;
    try { mediaBase = await invoke('media_base'); } catch { /* shown elsewhere */ }
    window.dispatchEvent(new CustomEvent('bucketstream:library-changed', { detail: { mediaBase } }));
    if (api && typeof api.reconnect === 'function') api.reconnect();
  }

  async function run(button, work) {
    button.disabled = true;
    say('Working…', 'busy');
    try {
      await work();
    } catch (err) {
      say(errorText(err), 'error', (err && err.code) || 'error');
    } finally {
      button.disabled = false;
    }
  }

  // "Create bucket" beside the bucket field: the name is checked as it is typed (the same
  // rules as the server's), then CreateBucket at the form's endpoint; on success the form is
  // saved, so the new bucket is the library.
  const bucketHint = el('small', { id: 'bs-bucket-hint', class: 'bs-hint', 'aria-live': 'polite' });
  const createBtn = el('button', { type: 'button', id: 'bs-create-bucket', text: 'Create bucket', 'aria-describedby': 'bs-bucket-hint' });
  function checkBucketName() {
    const name = inputs.bucket.value.trim();
    const problem = name ? bucketNameProblem(name) : null;
    bucketHint.textContent = problem ? `To create it: ${problem}.` : '';
    bucketHint.dataset.kind = problem ? 'error' : '';
    createBtn.disabled = !name || Boolean(problem);
    inputs.bucket.setAttribute('aria-invalid', String(Boolean(problem)));
  }
  inputs.bucket.addEventListener('input', checkBucketName);
  inputs.bucket.setAttribute('aria-describedby', 'bs-bucket-hint');
  createBtn.addEventListener('click', () => run(createBtn, async () => {
    const r = await invoke('create_bucket', { form: formValue() });
    showSettings(await invoke('save_settings', { form: formValue() }));
    clearSecrets();
    inputs.access_key_id.value = '';
    say(r.created
      ? `Created the bucket ${r.name}; the library now comes from it.`
      : `The bucket ${r.name} was already yours; the library now comes from it.`, 'ok', 'bucket-created');
    libraryChanged();
  }));

  const testBtn = el('button', { type: 'button', id: 'bs-test' , text: 'Test connection' });
  const saveBtn = el('button', { type: 'submit', id: 'bs-save', class: 'bs-primary', text: 'Save and use this bucket' });
  const forgetBtn = el('button', { type: 'button', id: 'bs-forget', text: 'Forget credentials' });

  testBtn.addEventListener('click', () => run(testBtn, async () => {
    const r = await invoke('test_connection', { form: formValue() });
    say(`Connected: ${r.media} playable item(s) among ${r.objects} object(s).`, 'ok', 'connected');
  }));
  forgetBtn.addEventListener('click', () => run(forgetBtn, async () => {
    showSettings(await invoke('forget_credentials'));
    clearSecrets();
    say('Credentials removed from the keyring.', 'ok', 'forgotten');
    libraryChanged();
  }));
  const form = el('form', { id: 'bs-s3-form', class: 'bs-card', autocomplete: 'off' },
    el('h3', { text: 'S3 bucket' }),
    el('div', { class: 'bs-field' }, el('label', { for: 'bs-bucket', text: 'Bucket' }),
      el('div', { class: 'bs-inline' }, inputs.bucket, createBtn), bucketHint),
    field('Region', inputs.region, 'Leave empty for the default (S3-compatible stores often use their own name).'),
    field('Endpoint', inputs.endpoint, 'Only for S3-compatible stores (Garage, MinIO, R2, B2…).'),
    field('Prefix', inputs.prefix, 'Only list keys under this folder.'),
    el('label', { class: 'bs-check' }, inputs.path_style, el('span', { text: 'Path-style addressing' })),
    field('Access key id', inputs.access_key_id),
    field('Secret access key', inputs.secret_access_key, 'Kept in the OS keyring only, never in the settings file.'),
    field('Session token (optional)', inputs.session_token),
    credState,
    el('div', { class: 'bs-actions' }, testBtn, saveBtn, forgetBtn));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(saveBtn, async () => {
      showSettings(await invoke('save_settings', { form: formValue() }));
      clearSecrets();
      inputs.access_key_id.value = '';
      say('Saved. The library now comes from the bucket.', 'ok', 'saved');
      libraryChanged();
    });
  });

  const envInput = el('input', { id: 'bs-env-file', type: 'file', accept: '.env,text/plain' });
  envInput.addEventListener('change', () => {
    const file = envInput.files && envInput.files[0];
    if (!file) return;
    run(envInput, async () => {
      const text = await file.text();
      const r = await invoke('import_env', { source: { text, name: file.name } });
      showSettings(r.settings);
      say(r.message, 'ok', 'imported');
      envInput.value = '';
      libraryChanged();
    });
  });
  const importCard = el('div', { class: 'bs-card' },
    el('h3', { text: 'Import a .env file' }),
    el('p', { text: 'Reads BUCKET_NAME, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the secret moves to the OS keyring.' }),
    envInput);

  const lanToggle = el('input', { id: 'bs-lan-enabled', type: 'checkbox' });
  const portInput = el('input', { id: 'bs-lan-port', type: 'number', min: '1', max: '65535' });
  const applyLan = el('button', { type: 'button', id: 'bs-lan-apply', text: 'Apply' });
  const lanState = el('p', { id: 'bs-lan-state' });
  const urlList = el('ul', { id: 'bs-lan-urls', class: 'bs-urls' });
  const qr = el('div', { id: 'bs-lan-qr', class: 'bs-qr' });
  const lanNote = el('p', { id: 'bs-lan-note', class: 'bs-warning', hidden: true });

  function showLan(l) {
    lanState.textContent = l.enabled
      ? `Sharing on port ${l.port} · ${l.clients} connected player(s)`
      : `Not shared (this computer only, port ${l.port}) · ${l.clients} connected player(s)`;
    lanState.dataset.clients = String(l.clients);
    urlList.replaceChildren(...l.urls.map((u) => el('li', {}, el('code', { text: u }))));
    if (l.enabled && l.urls.length === 0) urlList.append(el('li', { text: 'No network interface found.' }));
    qr.replaceChildren();
    if (l.qr_svg) {
      const doc = new DOMParser().parseFromString(l.qr_svg, 'image/svg+xml');
      const svg = doc.documentElement;
      if (svg && svg.nodeName.toLowerCase() === 'svg') {
        svg.setAttribute('role', 'img');
        svg.setAttribute('aria-label', `QR code for ${l.urls[0]}`);
        qr.append(document.importNode(svg, true));
      }
    }
    lanNote.hidden = !l.note;
    lanNote.textContent = l.note || '';
    showApps(l);
  }

  applyLan.addEventListener('click', () => run(applyLan, async () => {
    const port = Number.parseInt(portInput.value, 10);
    const l = await invoke('set_lan', { enabled: lanToggle.checked, port: Number.isFinite(port) ? port : null });
    showLan(l);
    say(l.enabled ? 'LAN sharing is on.' : 'LAN sharing is off.', 'ok', 'lan');
    libraryChanged();
  }));
  const lanCard = el('div', { class: 'bs-card', id: 'bs-lan' },
    el('h3', { text: 'Share on the local network' }),
    el('label', { class: 'bs-check' }, lanToggle, el('span', { text: 'Let other devices play this library' })),
    field('Port', portInput),
    el('div', { class: 'bs-actions' }, applyLan),
    lanState, lanNote, urlList, qr);

  // Other apps: Subsonic apps (on once a password is set; it lives in the OS keyring) and DLNA.
  const subsonicUser = el('input', { id: 'bs-subsonic-user', autocomplete: 'off', spellcheck: 'false', placeholder: 'bucketstream' });
  const subsonicPassword = el('input', { id: 'bs-subsonic-password', type: 'password', autocomplete: 'new-password' });
  const subsonicOn = el('button', { type: 'button', id: 'bs-subsonic-on', text: 'Save and turn on' });
  const subsonicOff = el('button', { type: 'button', id: 'bs-subsonic-off', text: 'Turn off' });
  const subsonicState = el('p', { id: 'bs-subsonic-state' });
  // An API key, for apps that sign in without a password: shown once, then only in the keyring.
  const keyNew = el('button', { type: 'button', id: 'bs-subsonic-key-new', text: 'Make an API key' });
  const keyOff = el('button', { type: 'button', id: 'bs-subsonic-key-off', text: 'Remove the API key' });
  const keyShown = el('input', { id: 'bs-subsonic-key', readonly: '', hidden: true, spellcheck: 'false' });
  const keyState = el('p', { id: 'bs-subsonic-key-state' });
  const dlnaToggle = el('input', { id: 'bs-dlna', type: 'checkbox' });
  let userTouched = false;
  subsonicUser.addEventListener('input', () => { userTouched = true; });

  function showApps(l) {
    subsonicState.textContent = l.subsonic_user
      ? `Subsonic apps: on, as "${l.subsonic_user}" (at this computer's address, path /rest)`
      : 'Subsonic apps: off (set a password to turn them on)';
    subsonicState.dataset.on = String(Boolean(l.subsonic_user));
    subsonicOff.disabled = !l.subsonic_user;
    keyNew.disabled = !l.subsonic_user;
    keyOff.disabled = !l.subsonic_api_key;
    keyState.textContent = l.subsonic_api_key
      ? 'API key: set (apps may sign in with it instead of the password)'
      : 'API key: none';
    keyState.dataset.on = String(Boolean(l.subsonic_api_key));
    if (!l.subsonic_api_key) keyShown.hidden = true;
    if (!userTouched && l.subsonic_user) subsonicUser.value = l.subsonic_user;
    dlnaToggle.checked = Boolean(l.dlna);
  }

  subsonicOn.addEventListener('click', () => run(subsonicOn, async () => {
    const user = subsonicUser.value.trim() || 'bucketstream';
    const l = await invoke('set_subsonic', { user, password: subsonicPassword.value });
    subsonicPassword.value = '';
    userTouched = false;
    showLan(l);
    say(`Subsonic apps can sign in as "${user}". The password is in the OS keyring.`, 'ok', 'subsonic');
    libraryChanged();
  }));
  subsonicOff.addEventListener('click', () => run(subsonicOff, async () => {
    const l = await invoke('set_subsonic', { user: subsonicUser.value.trim() || 'bucketstream', password: null });
    showLan(l);
    say('Subsonic apps are off; the password was removed from the OS keyring.', 'ok', 'subsonic');
    libraryChanged();
  }));
  keyNew.addEventListener('click', () => run(keyNew, async () => {
    const key = await invoke('new_subsonic_api_key');
    keyShown.value = key;
    keyShown.hidden = false;
    keyShown.select();
    showLan(await invoke('lan_status'));
    say('Copy the API key into the app now: it is kept in the OS keyring and not shown again. A new key replaces the old one.', 'ok', 'subsonic');
  }));
  keyOff.addEventListener('click', () => run(keyOff, async () => {
    const l = await invoke('forget_subsonic_api_key');
    keyShown.value = '';
    keyShown.hidden = true;
    showLan(l);
    say('The API key was removed; apps sign in with the password.', 'ok', 'subsonic');
  }));
  dlnaToggle.addEventListener('change', () => run(dlnaToggle, async () => {
    const l = await invoke('set_dlna', { enabled: dlnaToggle.checked });
    showLan(l);
    say(l.dlna ? 'DLNA is on: TVs on trusted networks can browse the library.' : 'DLNA is off.', 'ok', 'dlna');
    libraryChanged();
  }));
  const appsCard = el('div', { class: 'bs-card', id: 'bs-apps' },
    el('h3', { text: 'Apps on phones and TVs' }),
    el('p', { text: 'Subsonic apps (DSub, Symfonium, Sublime Music…) sign in with this user name and password.' }),
    field('User name', subsonicUser),
    field('Password', subsonicPassword, 'Kept in the OS keyring, never shown again'),
    el('div', { class: 'bs-actions' }, subsonicOn, subsonicOff),
    subsonicState,
    el('div', { class: 'bs-actions' }, keyNew, keyOff),
    keyShown, keyState,
    el('label', { class: 'bs-check' }, dlnaToggle,
      el('span', { text: 'DLNA: let TVs and media players on trusted networks browse (no sign-in)' })));

  section.append(
    el('h2', { text: 'Library and sharing' }),
    status, keyringWarning, envWarning, message,
    el('div', { class: 'bs-grid' }, form, el('div', {}, lanCard, appsCard, importCard)));

  async function refreshLan() {
    try {
      showLan(await invoke('lan_status'));
    } catch (err) {
      lanState.textContent = errorText(err);
    }
  }
  invoke('get_settings').then(showSettings, (err) => say(errorText(err), 'error', err && err.code));
  refreshLan();
  const timer = setInterval(() => { if (!section.hidden && document.visibilityState === 'visible') refreshLan(); }, LAN_POLL_MS);
  return { unmount() { clearInterval(timer); section.replaceChildren(); } };
}
