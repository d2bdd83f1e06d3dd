// The superAdmin's parts of the agent console: the closed tickets, finding
// a ticket by its number, and the agents (add, list, delete).
import {
  ApiError, el, setText, onSubmit, busy, timeEl, renderPager, showFieldError,
} from '/js/common.js';

const LIST_PAGE = 20;
const $ = (id) => document.getElementById(id);

// setupManage wires the superAdmin views to the console's state and helpers
// and returns what the console calls: loadClosed, renderClosed, loadAdmins.
export function setupManage({ state, call, token, openTicket, renderRows, showMessage }) {
  const search = $('search-form');
  onSubmit(search, async (v) => {
    try {
      const res = await call('GET', `/searchForTicket/${encodeURIComponent(v.ticketId)}`);
      openTicket(res.data);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.fields).length === 0 && (err.status === 404 || err.status === 400)) {
        showFieldError($('search-ticketId'), err.message);
        $('search-ticketId').focus();
        return;
      }
      throw err;
    }
  });

  const adminForm = $('admin-form');
  onSubmit(adminForm, async (v) => {
    adminForm.querySelector('.form-ok').hidden = true;
    const res = await call('POST', '/createAdmin', { body: v });
    adminForm.reset();
    const admin = res.data || {};
    if (admin.id) state.agents.set(admin.id, admin.userName);
    const ok = adminForm.querySelector('.form-ok');
    setText(ok, `${admin.userName || v.userName} can now log in as an agent.`);
    ok.hidden = false;
    await loadAdmins(1);
  });

  async function loadClosed(page) {
    const list = $('closed');
    list.setAttribute('aria-busy', 'true');
    showMessage($('closed-error'), '');
    try {
      const res = await call('GET', '/getAllClosedTickets', { query: { page, limit: LIST_PAGE } });
      state.closed = { page: Number(res.page) || page, items: res.data || [], loaded: true };
      renderClosed();
      renderPager($('closed-pager'), res, loadClosed);
    } catch (err) {
      if (token()) showMessage($('closed-error'), err.message);
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  function renderClosed() {
    if (!state.closed.loaded) return;
    renderRows($('closed'), state.closed.items);
    $('closed-empty').hidden = state.closed.items.length > 0;
  }

  async function loadAdmins(page) {
    const table = $('admins-table');
    table.setAttribute('aria-busy', 'true');
    showMessage($('admins-error'), '');
    try {
      const res = await call('GET', '/getAllAdmins', { query: { page, limit: LIST_PAGE } });
      const admins = res.data || [];
      for (const a of admins) state.agents.set(a.id, a.userName);
      $('admins').replaceChildren(...admins.map(adminRow));
      table.hidden = admins.length === 0;
      $('admins-empty').hidden = admins.length > 0;
      renderPager($('admins-pager'), res, loadAdmins);
    } catch (err) {
      if (token()) showMessage($('admins-error'), err.message);
    } finally {
      table.setAttribute('aria-busy', 'false');
    }
  }

  function adminRow(a) {
    const error = el('p', { className: 'field-error', hidden: true, role: 'alert' });
    const button = el('button', { type: 'button', className: 'danger small-button', 'aria-label': `Delete agent ${a.userName}` }, 'Delete');
    button.addEventListener('click', async () => {
      if (!window.confirm(`Delete the agent ${a.userName}? They can no longer log in.`)) return;
      error.hidden = true;
      await busy(button, async () => {
        try {
          await call('DELETE', '/deleteAdmin', { body: { adminId: a.id } });
          await loadAdmins(1);
        } catch (err) {
          showMessage(error, err.message);
        }
      });
    });
    return el('tr', { 'data-id': a.id },
      el('td', {}, a.userName),
      el('td', {}, a.email || ''),
      el('td', {}, timeEl(a.createdAt || a.created)),
      el('td', {}, button, error),
    );
  }

  return { loadClosed, renderClosed, loadAdmins };
}
