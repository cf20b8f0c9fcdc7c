/** Volume choice for a device with several encrypted volumes (e.g. BitLocker C: and D:). */
import { useEffect, useState } from 'preact/hooks';
import type { Volume } from '../lib/api/contract.ts';
import { sendMessage } from '../utils/send.ts';
import { useText } from './text.tsx';

/** The device's volumes (fetched through the background) and the chosen one. */
export function useVolumes(deviceId: string): { volumes: Volume[]; volumeId: string | undefined; choose: (id: string) => void } {
  const [volumes, setVolumes] = useState<Volume[]>([]);
  const [volumeId, setVolumeId] = useState<string | undefined>(undefined);
  useEffect(() => {
    void sendMessage('device.get', { deviceId }).then((reply) => {
      if (!reply?.ok) return;
      setVolumes(reply.device.volumes);
      setVolumeId((current) => current ?? reply.device.volumes[0]?.id);
    }).catch(() => undefined);
  }, [deviceId]);
  return { volumes, volumeId: volumes.length > 1 ? volumeId : undefined, choose: setVolumeId };
}

/** Shown only for a device with more than one volume; the popup passes its cached volumes, the panels the service's. */
export function VolumePicker(props: { id: string; volumes: Pick<Volume, 'id' | 'name'>[]; value: string | undefined; onChange: (id: string) => void; disabled?: boolean }) {
  const text = useText();
  if (props.volumes.length < 2) return null;
  return (
    <div class="kw-field">
      <label for={props.id}>{text('portal.volume')}</label>
      <select id={props.id} class="kw-input" value={props.value} disabled={props.disabled} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.volumes.map((v) => <option value={v.id} key={v.id}>{v.name}</option>)}
      </select>
    </div>
  );
}
