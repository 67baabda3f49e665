// A key's fingerprint as a QR code (openpgp4fpr:…), for checking it in person with a phone. The
// QR library loads with the first code shown; the code is one SVG path, no inline style.
import { html, Component } from '../html.js';

let library = null;

export class FingerprintQr extends Component {
  state = { path: null, size: 0 };

  componentDidMount() {
    this.draw();
  }

  componentDidUpdate(prev) {
    if (prev.uri !== this.props.uri) this.draw();
  }

  async draw() {
    library ??= import('/vendor/qrcode.mjs');
    const { default: qrcode } = await library;
    const qr = qrcode(0, 'M');
    qr.addData(this.props.uri);
    qr.make();
    const n = qr.getModuleCount();
    let d = '';
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c} ${r}h1v1h-1z`;
    this.setState({ path: d, size: n });
  }

  render({ label }) {
    const { path, size } = this.state;
    if (!path) return null;
    return html`<svg class="qr" role="img" aria-label=${label} viewBox=${`-2 -2 ${size + 4} ${size + 4}`} width="180" height="180">
      <rect x="-2" y="-2" width=${size + 4} height=${size + 4} fill="#fff" /><path d=${path} fill="#000" /></svg>`;
  }
}
