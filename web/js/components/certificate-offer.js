// A server's self-signed certificate, offered for trust: the user compares the SHA-256 fingerprint
// with the one their provider or administrator gave them, then trusts it (pinned by the box).
import { html } from '../html.js';
import { t } from '../i18n.js';

export function CertificateOffer({ cert, onTrust }) {
  return html`<div class="confirm cert" role="alert"><p>${t('accounts.cert_intro')}</p>
    <p><code class="fingerprint" data-fingerprint=${cert.fingerprint}>${cert.fingerprint.slice(0, 47)}<br />${cert.fingerprint.slice(48)}</code></p><p class="muted">${cert.subject} · ${cert.valid_to}</p>
    <button type="button" onClick=${onTrust}>${t('accounts.trust')}</button></div>`;
}
