// The escalation form shared by the finding page and the bulk escalation: integration, container,
// mode, preset and the ticket's fields. The fields come live from the vendor
// (GET /v1/integrations/{id}/fields): choice fields become selects with the instance's own values;
// a preset fills its defaults in; an empty field is left to the preset and the mapping rules.

import { get, message, query, type FieldValues, type Integration, type Preset, type TicketSpec, type VendorField } from './api';
import { field, h, nextId, replace, select } from './dom';

const KEYS: Array<{ key: keyof FieldValues; names: string[]; label: string }> = [
  { key: 'impact', names: ['impact'], label: 'Impact' },
  { key: 'urgency', names: ['urgency'], label: 'Urgency' },
  { key: 'priority', names: ['priority'], label: 'Priority' },
  { key: 'category', names: ['category'], label: 'Category' },
  { key: 'assignment_group', names: ['assignment_group'], label: 'Assignment group' },
  { key: 'assignee', names: ['assigned_to', 'assignee'], label: 'Assignee' },
];

/** The containers a vendor's tickets go to, when it has a fixed list. */
const CONTAINERS: Record<string, string[]> = {
  servicenow: ['incident', 'change_request'],
  manageengine: ['request'],
};

export interface SpecForm {
  el: HTMLElement;
  spec: () => TicketSpec;
  integration: () => Integration | undefined;
}

export function specForm(integrations: Integration[], presets: Preset[], opts: { modes: boolean }): SpecForm {
  const active = integrations.filter((i) => i.active);
  const integration = select('integration_id', active.map((i): [string, string] => [i.id, `${i.name} (${i.vendor})`]), active[0]?.id ?? '');
  const container = h('div', { class: 'container-field' });
  const modeName = nextId('mode');
  const related = h('input', { type: 'text', name: 'related_ticket', placeholder: 'e.g. INC0010001' });
  const relatedField = field('Parent or related ticket', related, 'The ticket the new one is a subtask of, or is linked to.');
  relatedField.hidden = true;
  const modes = h(
    'fieldset',
    { class: 'checks' },
    h('legend', {}, 'Mode'),
    ['standalone', 'subtask', 'link'].map((m) =>
      h('label', {}, h('input', { type: 'radio', name: modeName, value: m, checked: m === 'standalone' }), m),
    ),
  );
  modes.addEventListener('change', () => {
    relatedField.hidden = mode() === 'standalone';
  });
  const preset = select('preset', [['', 'None'], ...presets.map((p): [string, string] => [p.id, p.name])], '');
  const fieldsBox = h('div', { class: 'vendor-fields', 'aria-live': 'polite' });
  const summary = h('input', { type: 'text', name: 'summary_template', placeholder: '[LOCKSTEP] {key} - {title}' });
  const controls = new Map<keyof FieldValues, HTMLInputElement | HTMLSelectElement>();
  controls.set('summary_template', summary);

  const mode = () => (modes.querySelector('input:checked') as HTMLInputElement | null)?.value ?? 'standalone';
  const chosen = () => integrations.find((i) => i.id === integration.value);
  let containerControl: HTMLInputElement | HTMLSelectElement = h('input');

  const drawContainer = () => {
    const i = chosen();
    const fixed = CONTAINERS[i?.vendor ?? ''];
    const def = i?.settings.default_table || fixed?.[0] || '';
    containerControl = fixed
      ? select('table', fixed.map((c): [string, string] => [c, c.replace('_', ' ')]), fixed.includes(def) ? def : fixed[0] ?? '')
      : h('input', { type: 'text', name: 'table', value: def, placeholder: 'project key' });
    containerControl.addEventListener('change', () => void loadFields());
    replace(container, field(i?.vendor === 'jira' ? 'Project' : 'Table', containerControl));
  };

  const loadFields = async () => {
    const i = chosen();
    if (!i) {
      replace(fieldsBox, h('p', { class: 'error' }, 'No active integration: an admin creates one under Integrations.'));
      return;
    }
    replace(fieldsBox, h('p', { class: 'muted' }, `Reading the fields from ${i.name}…`));
    let vendorFields: VendorField[] | null = null;
    let note = '';
    try {
      const out = await get<{ fields: VendorField[]; complete: boolean; partial_reason: string }>(
        `/v1/integrations/${encodeURIComponent(i.id)}/fields${query({ container: containerControl.value })}`,
      );
      vendorFields = out.fields;
      if (!out.complete && out.partial_reason) note = `Some fields could not be read: ${out.partial_reason}`;
    } catch (e) {
      note = `The vendor's fields could not be read (${message(e)}); values are sent as typed.`;
    }
    drawFields(vendorFields, note);
  };

  const drawFields = (vendorFields: VendorField[] | null, note: string) => {
    const keep = new Map([...controls].map(([k, c]) => [k, c.value]));
    controls.clear();
    controls.set('summary_template', summary);
    const parts: HTMLElement[] = [];
    for (const k of KEYS) {
      const vf = vendorFields?.find((f) => k.names.includes(f.name));
      if (vendorFields && !vf) continue;
      const label = vf?.label || k.label;
      const control: HTMLInputElement | HTMLSelectElement =
        vf && vf.choices.length
          ? select(k.key, [['', '(from preset or mapping)'], ...vf.choices.map((c): [string, string] => [c.value, c.label || c.value])], '')
          : h('input', { type: 'text', name: k.key, placeholder: '(from preset or mapping)' });
      control.value = keep.get(k.key) ?? '';
      control.dataset.vendorField = vf?.name ?? k.key;
      controls.set(k.key, control);
      parts.push(field(vf?.required ? `${label} (required by the vendor)` : label, control));
    }
    replace(fieldsBox, note ? h('p', { class: 'muted' }, note) : null, h('div', { class: 'grid-fields' }, parts));
    applyPreset();
  };

  const applyPreset = () => {
    const p = presets.find((x) => x.id === preset.value);
    if (!p) return;
    for (const [k, control] of controls) {
      const v = p.fields[k];
      if (v) control.value = v;
    }
  };
  preset.addEventListener('change', applyPreset);
  integration.addEventListener('change', () => {
    drawContainer();
    void loadFields();
  });

  const el = h(
    'div',
    { class: 'spec-form' },
    h('div', { class: 'grid-fields' }, field('Integration', integration), container, field('Preset', preset, 'Fills its default values into the fields below.')),
    opts.modes ? h('div', { class: 'grid-fields' }, modes, relatedField) : null,
    fieldsBox,
    field('Summary template', summary, 'Placeholders {key} and {title}; empty: the preset or Lockstep default.'),
  );
  drawContainer();
  void loadFields();

  return {
    el,
    integration: chosen,
    spec: () => {
      const values = {} as FieldValues;
      for (const k of [...KEYS.map((x) => x.key), 'summary_template' as const]) values[k] = controls.get(k)?.value.trim() ?? '';
      return {
        integration_id: integration.value,
        table: containerControl.value.trim(),
        mode: opts.modes ? mode() : 'standalone',
        related_ticket: opts.modes && mode() !== 'standalone' ? related.value.trim() : '',
        labels: [],
        reporter: '',
        preset: preset.value,
        fields: values,
      };
    },
  };
}

export async function presetsAndIntegrations(all: () => Promise<Integration[]>): Promise<[Integration[], Preset[]]> {
  const [integrations, presets] = await Promise.all([
    all(),
    get<{ presets: Preset[] }>('/v1/presets?page_size=200').then((p) => p.presets).catch(() => [] as Preset[]),
  ]);
  return [integrations, presets];
}
