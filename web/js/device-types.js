// Device types as the API knows them, their labels, and a first guess from the user agent for
// the naming step (the user confirms or changes it: a laptop cannot be told from a desktop).
import { t } from './i18n.js';

export const DEVICE_TYPES = ['desktop', 'laptop', 'phone', 'tablet', 'shared'];

const TYPE_KEYS = {
  desktop: 'device.type.desktop',
  laptop: 'device.type.laptop',
  phone: 'device.type.phone',
  tablet: 'device.type.tablet',
  shared: 'device.type.shared',
};

export function typeLabel(type) {
  return TYPE_KEYS[type] ? t(TYPE_KEYS[type]) : type;
}

/** {browser, os, type} for a default name such as "Firefox on Windows". */
export function guessDevice(ua = '') {
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chromium\//.test(ua) ? 'Chromium'
    : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : t('device.unknown_browser');
  const os = /iPhone/.test(ua) ? 'iPhone' : /iPad/.test(ua) ? 'iPad' : /Android/.test(ua) ? 'Android'
    : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /CrOS/.test(ua) ? 'ChromeOS' : /Linux/.test(ua) ? 'Linux' : t('device.unknown_os');
  const type = /iPad|Tablet/.test(ua) || (/Android/.test(ua) && !/Mobile/.test(ua)) ? 'tablet' : /Mobi|iPhone|Android/.test(ua) ? 'phone' : 'desktop';
  return { browser, os, type };
}
