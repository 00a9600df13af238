// manage.js: the owner's changes to the library from the player: rename, move and delete an
// item, each behind a confirmation dialog.
//
// Only the owner may (the desktop window; a browser on the host or on a trusted network): the
// page learns it from /api/health's permissions.manage (the desktop app is always the owner)
// and sets body[data-manage], which shows each row's "More" button (manage.css). The dialog is
// a native <dialog> opened with showModal(): focus moves into it and stays there, Escape closes
// it, and focus returns to the row's button. A request goes to the LAN server
// (DELETE /api/items/{id}, POST /api/items/{id}/move) or, in the desktop app, to the commands
// delete_item and move_item; the list then changes through the usual library_changed event,
// on every screen at once. Errors are the server's {code, message}, shown in the dialog.

import { isDesktop, invoke, mediaBase, fetchJson } from './api.js';
import { h, announce } from './util.js';

let allowed = false;
let dialog = null;

/** Whether this page may manage the library (see setManage). */
export function canManage() {
  return allowed;
}

/**
 * Sets whether this page may manage the library and shows or hides the controls: always in the
 * desktop app; in a browser from the health object's permissions (the page already asks for
 * /api/health whenever the connection opens, and passes each answer here).
 */
export function setManage(healthObject) {
  const may = isDesktop || Boolean(healthObject && healthObject.permissions && healthObject.permissions.manage);
  allowed = may;
  document.body.dataset.manage = String(may);
  if (!may && dialog && dialog.node.open) dialog.node.close();
  return may;
}

/** The file name (last component) of a key. */
export function fileName(key) {
  const at = key.lastIndexOf('/');
  return at >= 0 ? key.slice(at + 1) : key;
}

/** The request for `what` on item `id`: {method, path, body} (pure, for tests). */
export function requestFor(what, id, change = {}) {
  const path = `/api/items/${encodeURIComponent(id)}`;
  if (what === 'delete') return { method: 'DELETE', path, body: null };
  return { method: 'POST', path: `${path}/move`, body: { folder: change.folder, name: change.name } };
}

async function call(what, id, change) {
  if (isDesktop) {
    if (what === 'delete') return invoke('delete_item', { id });
    return invoke('move_item', { id, folder: change.folder, name: change.name });
  }
  const req = requestFor(what, id, change);
  const init = { method: req.method, headers: {} };
  if (req.body) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(req.body);
  }
  return fetchJson((await mediaBase()) + req.path, init);
}

function button(text, action, extra = {}) {
  return h('button', { type: 'button', className: `manage-btn ${extra.className || ''}`.trim(), text, dataset: { action } });
}

/** Builds the dialog once; its steps are "edit", "confirm-move" and "confirm-delete". */
function ensureDialog() {
  if (dialog) return dialog;
  const title = h('h2', { id: 'manage-title', className: 'manage-title' });
  const folder = h('input', { id: 'manage-folder', name: 'folder', autocomplete: 'off', spellcheck: false });
  const name = h('input', { id: 'manage-name', name: 'name', autocomplete: 'off', spellcheck: false, required: true });
  const question = h('p', { id: 'manage-question', className: 'manage-question' });
  const error = h('p', { id: 'manage-error', className: 'manage-error', attrs: { role: 'alert' } });
  const edit = h('div', { className: 'manage-step', dataset: { step: 'edit' } },
    h('label', { className: 'manage-field' }, h('span', { text: 'Folder' }), folder,
      h('small', { text: 'Inside the library; empty for its top. Use / between folders.' })),
    h('label', { className: 'manage-field' }, h('span', { text: 'File name' }), name),
    h('div', { className: 'manage-actions' },
      button('Rename or move…', 'ask-move', { className: 'primary' }),
      button('Delete…', 'ask-delete', { className: 'danger' }),
      button('Cancel', 'cancel')));
  const confirm = h('div', { className: 'manage-step', dataset: { step: 'confirm' } },
    question,
    h('div', { className: 'manage-actions' },
      button('Confirm', 'confirm', { className: 'primary' }),
      button('Back', 'back')));
  const node = h('dialog', { id: 'manage-dialog', className: 'manage-dialog', attrs: { 'aria-labelledby': 'manage-title', 'aria-describedby': 'manage-question' } },
    h('form', { className: 'manage-form', attrs: { method: 'dialog' } }, title, edit, confirm, error));
  document.body.append(node);
  dialog = { node, title, folder, name, question, error, edit, confirm, state: null };
  node.querySelector('form').addEventListener('submit', (ev) => ev.preventDefault());
  node.addEventListener('click', (ev) => onAction(ev));
  node.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && ev.target instanceof HTMLInputElement) {
      ev.preventDefault();
      ask('move');
    }
  });
  node.addEventListener('close', () => {
    const opener = dialog.state && dialog.state.opener;
    dialog.state = null;
    if (opener && opener.isConnected) opener.focus();
  });
  return dialog;
}

function show(step) {
  const d = dialog;
  d.edit.hidden = step !== 'edit';
  d.confirm.hidden = step === 'edit';
  d.node.dataset.step = step;
  if (step === 'edit') d.name.focus();
  else d.confirm.querySelector('[data-action="confirm"]').focus();
}

function ask(what) {
  const d = dialog;
  const { item } = d.state;
  d.error.textContent = '';
  if (what === 'delete') {
    d.state.pending = { what: 'delete' };
    d.question.textContent = `Delete “${item.key}”? It is removed from the store for every player, and this cannot be undone.`;
    d.confirm.querySelector('[data-action="confirm"]').textContent = 'Delete';
    d.confirm.querySelector('[data-action="confirm"]').classList.add('danger');
  } else {
    const folder = d.folder.value.trim().replace(/^\/+|\/+$/g, '');
    const name = d.name.value.trim();
    if (!name) {
      d.error.textContent = 'Enter a file name.';
      d.name.focus();
      return;
    }
    const target = folder ? `${folder}/${name}` : name;
    if (target === item.key) {
      d.error.textContent = 'That is where it is already.';
      return;
    }
    d.state.pending = { what: 'move', folder, name };
    d.question.textContent = `Move “${item.key}” to “${target}”?`;
    d.confirm.querySelector('[data-action="confirm"]').textContent = 'Move';
    d.confirm.querySelector('[data-action="confirm"]').classList.remove('danger');
  }
  show('confirm');
}

async function onAction(ev) {
  const btn = ev.target.closest('[data-action]');
  if (!btn || !dialog || !dialog.state) return;
  const action = btn.dataset.action;
  if (action === 'cancel') dialog.node.close();
  else if (action === 'back') show('edit');
  else if (action === 'ask-move') ask('move');
  else if (action === 'ask-delete') ask('delete');
  else if (action === 'confirm') await confirmPending(btn);
}

async function confirmPending(btn) {
  const d = dialog;
  const { item, pending } = d.state;
  if (!pending) return;
  btn.disabled = true;
  d.node.setAttribute('aria-busy', 'true');
  try {
    await call(pending.what, item.id, pending);
    d.node.close();
    announce(pending.what === 'delete' ? `Deleted “${item.name}”` : `Moved “${item.name}”`);
  } catch (err) {
    d.error.textContent = (err && err.message) || String(err);
    d.error.dataset.code = (err && err.code) || 'error';
    show('edit');
  } finally {
    btn.disabled = false;
    d.node.removeAttribute('aria-busy');
  }
}

/** Opens the dialog for `item`; focus returns to `opener` when it closes. */
export function openManage(item, opener) {
  if (!allowed) return;
  const d = ensureDialog();
  d.state = { item, opener, pending: null };
  d.title.textContent = `“${item.name}”`;
  d.folder.value = item.folder || '';
  d.name.value = fileName(item.key);
  d.error.textContent = '';
  if (!d.node.open) d.node.showModal();
  show('edit');
}
