/**
 * The demo's simulated devices (all labelled "simulated"): a corporate Mac whose key is
 * escrowed at enrollment, a personal Mac encrypted before enrollment (its owner stores the
 * key), and a Windows PC with BitLocker volumes C: and D:, both escrowed.
 */
import type { SimulatedDeviceSpec } from '../agent/simulated-fleet.ts';
import { DEMO_TOKENS } from './seed.ts';

export function demoDeviceSpecs(): SimulatedDeviceSpec[] {
  return [
    {
      name: 'Corporate MacBook (simulated)',
      platform: 'macos',
      keyKind: 'filevault',
      enrollToken: DEMO_TOKENS['corporate-mac'],
      volumes: [{ ref: 'disk3s1', name: 'Macintosh HD', escrowed: true }],
    },
    {
      name: 'Personal MacBook (simulated)',
      platform: 'macos',
      keyKind: 'filevault',
      enrollToken: DEMO_TOKENS['personal-mac'],
      volumes: [{ ref: 'disk3s1', name: 'Macintosh HD', escrowed: false }],
    },
    {
      name: 'Windows PC (simulated)',
      platform: 'windows',
      keyKind: 'bitlocker',
      enrollToken: DEMO_TOKENS['windows-pc'],
      volumes: [
        { ref: 'C:', name: 'C:', escrowed: true },
        { ref: 'D:', name: 'D:', escrowed: true },
      ],
    },
  ];
}
