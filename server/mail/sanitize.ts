/**
 * HTML mail sanitizing. The result is shown in a sandboxed iframe without scripts; this is the second
 * wall, so it is an allowlist throughout: tags, attributes, URL schemes and CSS properties not listed
 * here are dropped. Remote content (images, backgrounds) is the tracking channel of mail, so it is
 * removed and counted unless the caller allows it for this message or sender.
 */
import sanitize from 'sanitize-html';

export interface SanitizeOptions {
  allowRemote: boolean;
  /** the message's own images by Content-ID (no angle brackets) as data: URLs; a cid: not here is dropped */
  inlineImages?: ReadonlyMap<string, string>;
}

export interface SanitizeResult {
  html: string;
  blockedRemote: number;
}

const ALLOWED_TAGS = [
  'a', 'abbr', 'address', 'article', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center',
  'cite', 'code', 'col', 'colgroup', 'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure',
  'font', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'i', 'img', 'ins', 'kbd', 'li',
  'main', 'mark', 'nav', 'ol', 'p', 'pre', 'q', 's', 'samp', 'section', 'small', 'span', 'strike',
  'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var',
  'wbr',
];

// Content of these is never shown as text either: code, CSS, or markup meant for other contexts.
const NON_TEXT_TAGS = [
  'script', 'style', 'title', 'textarea', 'option', 'xmp', 'noscript', 'noembed', 'noframes', 'iframe',
  'object', 'template', 'svg', 'math',
];

const COMMON_ATTRIBUTES = [
  'style', 'title', 'dir', 'lang', 'align', 'valign', 'width', 'height', 'bgcolor', 'border',
  'cellpadding', 'cellspacing', 'colspan', 'rowspan', 'color', 'face', 'size', 'background',
];

// Only colour and arithmetic functions: url(), image-set(), image(), element(), var() and
// expression() can all fetch or smuggle content. No backslash (CSS escapes hide "url"), no colon,
// semicolon, braces or angle brackets.
const SAFE_CSS_VALUE = /^(?:[-\w\s#%.,/+*'"!)]|\b(?:rgba?|hsla?|calc)\()*$/i;

// Layout and typography only. position/top/left/z-index (overlays), content, cursor,
// background-image, list-style-image, border-image, filter, transform and behaviours are absent.
const SAFE_CSS_PROPERTIES = [
  'color', 'background', 'background-color', 'font', 'font-family', 'font-size', 'font-style',
  'font-weight', 'font-variant', 'line-height', 'letter-spacing', 'word-spacing', 'word-break',
  'word-wrap', 'overflow-wrap', 'text-align', 'text-decoration', 'text-indent', 'text-transform',
  'white-space', 'vertical-align', 'direction', 'display', 'float', 'clear', 'overflow', 'opacity',
  'margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left',
  'padding', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left',
  'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color', 'border-style',
  'border-width', 'border-radius', 'border-collapse', 'border-spacing',
  'width', 'height', 'max-width', 'min-width', 'max-height', 'min-height',
  'list-style-type', 'table-layout', 'caption-side', 'empty-cells',
];

const LINK_SCHEMES = new Set(['http', 'https', 'mailto']);
const INLINE_IMAGE = /^data:image\/(?:png|gif|jpeg|webp)[;,]/i;

/** Browsers ignore control characters and spaces inside a scheme ("java\tscript:"). */
function compactUrl(url: string): string {
  return url.replace(/[\x00-\x20\x7f]+/g, '');
}

function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(compactUrl(url));
  return m ? m[1]!.toLowerCase() : null;
}

/** http(s) or protocol-relative: something a renderer would fetch from the network. */
function isRemote(url: string): boolean {
  const scheme = schemeOf(url);
  return scheme === 'http' || scheme === 'https' || /^[/\\]{2}/.test(compactUrl(url));
}

function isInlineImage(url: string): boolean {
  return schemeOf(url) === 'cid' || INLINE_IMAGE.test(compactUrl(url));
}

/** "cid:part1.abc%40example.org" → "part1.abc@example.org" (RFC 2392: the URL is %-encoded). */
function contentIdOf(url: string): string {
  const id = compactUrl(url).slice(4);
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

type Attribs = Record<string, string>;

/** Per-call state: the count must not leak between messages. */
class Transformer {
  blockedRemote = 0;
  constructor(
    private readonly allowRemote: boolean,
    private readonly inlineImages: ReadonlyMap<string, string> | undefined,
  ) {}

  /** Decides one image URL: keep it as is, or drop it (counting it when it was remote). */
  private imageUrl(url: string): string | undefined {
    if (schemeOf(url) === 'cid' && this.inlineImages) return this.inlineImages.get(contentIdOf(url));
    if (isInlineImage(url)) return url;
    if (isRemote(url)) {
      if (this.allowRemote && schemeOf(url) !== null) return url;
      this.blockedRemote++;
    }
    // Relative URLs would resolve against the app's origin: never fetch them.
    return undefined;
  }

  private srcset(value: string): string | undefined {
    const urls = value.split(',').map((c) => c.trim().split(/\s+/)[0] ?? '').filter((u) => u !== '');
    const remote = urls.some(isRemote);
    if (remote && !this.allowRemote) this.blockedRemote++;
    const allHttp = urls.length > 0 && urls.every((u) => schemeOf(u) === 'http' || schemeOf(u) === 'https');
    return this.allowRemote && allHttp ? value : undefined;
  }

  private link(attribs: Attribs): Attribs {
    const href = attribs.href;
    const out: Attribs = { ...attribs, rel: 'noopener noreferrer', target: '_blank' };
    const scheme = href === undefined ? null : schemeOf(href);
    if (href === undefined || scheme === null || !LINK_SCHEMES.has(scheme)) delete out.href;
    return out;
  }

  private image(attribs: Attribs): Attribs {
    const out: Attribs = { ...attribs };
    const src = out.src === undefined ? undefined : this.imageUrl(out.src);
    if (src === undefined) delete out.src;
    else out.src = src;
    const srcset = out.srcset === undefined ? undefined : this.srcset(out.srcset);
    if (srcset === undefined) delete out.srcset;
    else out.srcset = srcset;
    return out;
  }

  private common(attribs: Attribs): Attribs {
    const out: Attribs = { ...attribs };
    if (out.background !== undefined) {
      const bg = this.imageUrl(out.background);
      if (bg === undefined) delete out.background;
      else out.background = bg;
    }
    // url() never survives the CSS filter; count it so the user knows something was held back.
    if (out.style !== undefined && !this.allowRemote && /url\s*\(\s*['"]?\s*(?:https?:|\/\/)/i.test(out.style)) {
      this.blockedRemote++;
    }
    return out;
  }

  transform = (tagName: string, attribs: Attribs): sanitize.Tag => {
    if (!ALLOWED_TAGS.includes(tagName)) return { tagName, attribs };
    let out = this.common(attribs);
    if (tagName === 'a') out = this.link(out);
    if (tagName === 'img') out = this.image(out);
    return { tagName, attribs: out };
  };
}

function cssAllowList(): Record<string, RegExp[]> {
  return Object.fromEntries(SAFE_CSS_PROPERTIES.map((p) => [p, [SAFE_CSS_VALUE]]));
}

export function sanitizeHtml(html: string, opts: SanitizeOptions): SanitizeResult {
  const t = new Transformer(opts.allowRemote, opts.inlineImages);
  const clean = sanitize(html, {
    allowedTags: ALLOWED_TAGS,
    nonTextTags: NON_TEXT_TAGS,
    disallowedTagsMode: 'discard',
    allowedAttributes: {
      '*': COMMON_ATTRIBUTES,
      a: ['href', 'target', 'rel'],
      img: ['src', 'srcset', 'alt'],
      td: ['nowrap'],
      th: ['nowrap', 'scope'],
      ol: ['start', 'type'],
      ul: ['type'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['cid', 'data', 'http', 'https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'background', 'cite'],
    allowProtocolRelative: false,
    allowedStyles: { '*': cssAllowList() },
    transformTags: { '*': t.transform },
    // An image whose source was blocked is dropped rather than left as a broken frame.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src && !frame.attribs.srcset,
  });
  return { html: clean, blockedRemote: t.blockedRemote };
}
