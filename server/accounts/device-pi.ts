/**
 * The Privacy Index of a device (SPEC §7): what the box knows of each browser the user logged in
 * from. `deviceSignals` names what was observed, DEVICE_WEIGHTS (the one table, help texts in
 * English and French) turns the names into points. Signals the box cannot check yet, verification
 * and a per-device signing key, earn nothing and say so. "Secure connection" means HTTPS only: the
 * box itself speaks plain HTTP, so it counts when the session cookie is Secure (http.secureCookies,
 * set behind an HTTPS front: browsers then send it over HTTPS only) or the request came over TLS.
 */
import type { Knex } from 'knex';
import { piColour, piLetter } from '../privacy/index.js';
import { countUnboundSessions, listDevices, type DeviceRow, type DeviceType } from './devices.js';

export type DeviceAxis = 'trust' | 'kind' | 'use';
type Lang = 'en' | 'fr';

interface DeviceWeight {
  axis: DeviceAxis;
  points: number;
  help: Record<Lang, string>;
}

export const DEVICE_WEIGHTS = {
  NOT_VERIFIED: {
    axis: 'trust', points: 0,
    help: {
      en: 'Devices cannot be verified yet (coming in a later version: a device verified from another of your devices earns 30 points).',
      fr: 'Les appareils ne peuvent pas encore être vérifiés (à venir : un appareil vérifié depuis un autre de vos appareils rapporte 30 points).',
    },
  },
  NO_SIGNING_KEY: {
    axis: 'trust', points: 0,
    help: {
      en: 'This device does not hold a signing key yet (coming with OpenPGP: a device that signs its requests earns 20 points).',
      fr: 'Cet appareil ne détient pas encore de clé de signature (à venir avec OpenPGP : un appareil qui signe ses requêtes rapporte 20 points).',
    },
  },
  TYPE_DESKTOP: {
    axis: 'kind', points: 20,
    help: { en: 'A desktop computer: personal and stays at home or at work.', fr: 'Un ordinateur de bureau : personnel, il reste à la maison ou au travail.' },
  },
  TYPE_LAPTOP: {
    axis: 'kind', points: 15,
    help: { en: 'A laptop: personal, but it travels and can be lost or stolen.', fr: 'Un ordinateur portable : personnel, mais il voyage et peut être perdu ou volé.' },
  },
  TYPE_PHONE: {
    axis: 'kind', points: 10,
    help: { en: 'A phone: always with you, and easily lost or stolen.', fr: 'Un téléphone : toujours avec vous, et facilement perdu ou volé.' },
  },
  TYPE_TABLET: {
    axis: 'kind', points: 10,
    help: { en: 'A tablet: often shared at home, and easily lost or stolen.', fr: 'Une tablette : souvent partagée à la maison, et facilement perdue ou volée.' },
  },
  TYPE_SHARED: {
    axis: 'kind', points: 0,
    help: {
      en: 'A shared or public computer: others use it after you. Log out when you leave (a personal device earns up to 20 points).',
      fr: 'Un ordinateur partagé ou public : d’autres l’utilisent après vous. Déconnectez-vous en partant (un appareil personnel rapporte jusqu’à 20 points).',
    },
  },
  SECURE_CONNECTION: {
    axis: 'use', points: 10,
    help: { en: 'This device reaches the box over HTTPS only.', fr: 'Cet appareil n’accède au boîtier qu’en HTTPS.' },
  },
  INSECURE_CONNECTION: {
    axis: 'use', points: 0,
    help: {
      en: 'The box is reached over plain HTTP: fine on your own network, not elsewhere. Serve it over HTTPS (worth 10 points).',
      fr: 'Le boîtier est joint en HTTP simple : acceptable sur votre propre réseau, pas ailleurs. Servez-le en HTTPS (vaut 10 points).',
    },
  },
  KNOWN_NETWORK: {
    axis: 'use', points: 10,
    help: {
      en: 'Last seen from a known address: used for more than a day, or by another of your devices.',
      fr: 'Vu pour la dernière fois depuis une adresse connue : utilisée depuis plus d’un jour, ou par un autre de vos appareils.',
    },
  },
  NEW_NETWORK: {
    axis: 'use', points: 0,
    help: {
      en: 'Last seen from an address new to your account (worth 10 points once it is known). Check that it was you.',
      fr: 'Vu pour la dernière fois depuis une adresse nouvelle pour votre compte (vaut 10 points une fois connue). Vérifiez que c’était vous.',
    },
  },
  RECENTLY_USED: {
    axis: 'use', points: 10,
    help: { en: 'Used in the last 7 days.', fr: 'Utilisé ces 7 derniers jours.' },
  },
  NOT_RECENTLY_USED: {
    axis: 'use', points: 0,
    help: {
      en: 'Not used for more than 7 days: remove it if you no longer use it (a recently used device earns 10 points).',
      fr: 'Inutilisé depuis plus de 7 jours : retirez-le si vous ne vous en servez plus (un appareil utilisé récemment rapporte 10 points).',
    },
  },
} as const satisfies Record<string, DeviceWeight>;

export type DeviceSignal = keyof typeof DEVICE_WEIGHTS;

export interface DeviceReason {
  signal: DeviceSignal;
  axis: DeviceAxis;
  points: number;
  help: string;
}

export interface DevicePi {
  score: number;
  letter: string;
  colour: string;
  axes: Record<DeviceAxis, number>;
  reasons: DeviceReason[];
}

const DAY_MS = 86_400_000;
export const RECENT_USE_MS = 7 * DAY_MS;
/** An address becomes known after a day of use, or at once when another device uses it. */
export const KNOWN_NETWORK_AFTER_MS = DAY_MS;

const TYPE_SIGNAL: Record<DeviceType, DeviceSignal> = {
  desktop: 'TYPE_DESKTOP',
  laptop: 'TYPE_LAPTOP',
  phone: 'TYPE_PHONE',
  tablet: 'TYPE_TABLET',
  shared: 'TYPE_SHARED',
};

export interface NetworkSeen {
  device_id: number;
  ip: string;
  first_seen_at: number;
}

export interface DeviceObservation {
  device: Pick<DeviceRow, 'id' | 'type' | 'last_ip' | 'last_seen_at'>;
  /** the addresses the user's devices were seen from (device_networks) */
  networks: NetworkSeen[];
  /** HTTPS, as the module comment defines it */
  secure: boolean;
  now: number;
}

/** What is observed of one device, as signal names; pure. */
export function deviceSignals(o: DeviceObservation): DeviceSignal[] {
  const { device, now } = o;
  const known =
    !!device.last_ip &&
    o.networks.some((n) => n.ip === device.last_ip && (n.device_id !== device.id || n.first_seen_at <= now - KNOWN_NETWORK_AFTER_MS));
  return [
    'NOT_VERIFIED',
    'NO_SIGNING_KEY',
    TYPE_SIGNAL[device.type] ?? 'TYPE_SHARED',
    o.secure ? 'SECURE_CONNECTION' : 'INSECURE_CONNECTION',
    known ? 'KNOWN_NETWORK' : 'NEW_NETWORK',
    now - device.last_seen_at <= RECENT_USE_MS ? 'RECENTLY_USED' : 'NOT_RECENTLY_USED',
  ];
}

/** Signals → score, letter, colour, axes and reasons in the user's language, from DEVICE_WEIGHTS. */
export function scoreDevice(signals: DeviceSignal[], lang: Lang): DevicePi {
  const reasons = signals.map((s): DeviceReason => {
    const w: DeviceWeight = DEVICE_WEIGHTS[s];
    return { signal: s, axis: w.axis, points: w.points, help: w.help[lang] };
  });
  const axes: Record<DeviceAxis, number> = { trust: 0, kind: 0, use: 0 };
  for (const r of reasons) axes[r.axis] += r.points;
  const score = Math.min(100, axes.trust + axes.kind + axes.use);
  return { score, letter: piLetter(score), colour: piColour(score), axes, reasons };
}

/** The addresses all of the user's devices were seen from: one indexed scan. */
export async function userNetworks(db: Knex, userId: number): Promise<NetworkSeen[]> {
  return db('device_networks as n')
    .join('devices as d', 'd.id', 'n.device_id')
    .where('d.user_id', userId)
    .select('n.device_id', 'n.ip', 'n.first_seen_at');
}

export interface DevicePiOptions {
  now: number;
  lang: Lang;
  /** the device of the session asking */
  currentId: number | null;
  /** http.secureCookies: the session cookie only ever travels over HTTPS */
  secureCookies: boolean;
  /** the asking request came over TLS (it speaks for the current device only) */
  requestSecure: boolean;
}

/** The user's devices, most recently seen first, each with its PI; and the sessions bound to none. */
export async function devicesWithPi(db: Knex, userId: number, o: DevicePiOptions): Promise<{ devices: Array<{ device: DeviceRow; pi: DevicePi }>; unboundSessions: number }> {
  const [devices, networks, unboundSessions] = await Promise.all([listDevices(db, userId), userNetworks(db, userId), countUnboundSessions(db, userId, o.now)]);
  return {
    devices: devices.map((device) => {
      const secure = o.secureCookies || (device.id === o.currentId && o.requestSecure);
      return { device, pi: scoreDevice(deviceSignals({ device, networks, secure, now: o.now }), o.lang) };
    }),
    unboundSessions,
  };
}
