import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A validator for OCSF events against the schema's own definitions (the ocsf-schema repository's JSON files, as
 * kept in test/fixtures/ocsf-1.8.0/), resolving what the OCSF server resolves: `extends` chains of classes and
 * objects, `$include`d profile attributes, dictionary types and enums, and object constraints. It reports, per
 * event: unknown attributes, missing required ones, wrong types, values outside an enum, broken constraints, and
 * class_uid / category_uid / type_uid that do not follow from the definitions.
 */
interface AttributeDef {
  type?: string;
  is_array?: boolean;
  requirement?: string;
  enum?: Record<string, unknown>;
  profile?: string | null;
}

interface Definition {
  name: string;
  uid?: number;
  extends?: string;
  category?: string;
  attributes: Record<string, AttributeDef> & { $include?: string[] };
  constraints?: { at_least_one?: string[]; just_one?: string[] };
}

interface Resolved {
  attributes: Map<string, AttributeDef & { fromProfile?: string }>;
  constraints: Definition['constraints'];
  category?: string;
}

export interface OcsfSchema {
  version: string;
  /** Every definition file read so far, relative to the schema's root (what the fixtures must keep). */
  read: Set<string>;
  validate(event: Record<string, unknown>): string[];
}

export function loadOcsfSchema(root: string, eventFiles: string[]): OcsfSchema {
  const read = new Set<string>();
  const json = <T>(path: string): T => {
    read.add(path);
    return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
  };
  const version = json<{ version: string }>('version.json').version;
  const dictionary = json<{ attributes: Record<string, AttributeDef>; types: { attributes: Record<string, TypeDef> } }>(
    'dictionary.json',
  );
  const categories = json<{ attributes: Record<string, { uid: number }> }>('categories.json').attributes;
  const events = new Map(eventFiles.map((p) => [json<Definition>(p).name, p]));

  const resolve = (name: string, kind: 'event' | 'object'): Resolved => {
    // Objects are kept under their own names (objects/user.json defines `user`).
    const path = kind === 'event' ? events.get(name) : `objects/${name}.json`;
    if (!path) throw new Error(`the kept OCSF definitions have no ${kind} ${name}`);
    const def = json<Definition>(path);
    const parent =
      def.extends && def.extends !== 'object'
        ? resolve(def.extends, kind)
        : { attributes: new Map(), constraints: undefined };
    const attributes = new Map(parent.attributes);
    for (const include of def.attributes.$include ?? []) {
      const profile = json<{ name: string; attributes: Record<string, AttributeDef> }>(include);
      for (const [attr, spec] of Object.entries(profile.attributes))
        attributes.set(attr, {
          ...attributes.get(attr),
          ...spec,
          ...(include.startsWith('profiles/') ? { fromProfile: profile.name } : {}),
        });
    }
    for (const [attr, value] of Object.entries(def.attributes)) {
      if (attr === '$include') continue;
      const spec = value as AttributeDef;
      const before = attributes.get(attr);
      const merged = { ...before, ...spec };
      // `"profile": null` in a class makes a profile's attribute the class's own (API Activity's `actor`).
      if (spec.profile === null) delete merged.fromProfile;
      if (before?.enum && spec.enum) merged.enum = { ...before.enum, ...spec.enum };
      attributes.set(attr, merged);
    }
    return {
      attributes,
      constraints: def.constraints ?? parent.constraints,
      category: def.category ?? (parent as Resolved).category,
    };
  };

  const baseType = (type: string): TypeDef & { base: string } => {
    const t = dictionary.types.attributes[type];
    if (!t) return { base: type };
    return { ...t, base: t.type ?? type };
  };

  function checkValue(where: string, value: unknown, spec: AttributeDef, name: string, problems: string[]) {
    const dict = dictionary.attributes[name] ?? {};
    const type = spec.type ?? dict.type;
    if (!type) return problems.push(`${where}: no type for ${name}`);
    const isArray = spec.is_array ?? dict.is_array ?? false;
    if (isArray) {
      if (!Array.isArray(value)) return problems.push(`${where}: an array expected`);
      value.forEach((v, i) => checkOne(`${where}[${i}]`, v, type, problems));
    } else checkOne(where, value, type, problems);
    const values = spec.enum ?? dict.enum;
    // The base event's enums of these list only 0; each class's own uid is checked against its definition instead.
    if (
      values &&
      name !== 'class_uid' &&
      name !== 'category_uid' &&
      typeof value === 'number' &&
      !(String(value) in values)
    )
      problems.push(`${where}: ${value} is not one of ${Object.keys(values).join(', ')}`);
  }

  function checkOne(where: string, value: unknown, type: string, problems: string[]) {
    if (type === 'object' || type === 'json_t') return;
    if (!type.endsWith('_t')) {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        return problems.push(`${where}: an object ${type} expected`);
      return checkObject(where, value as Record<string, unknown>, resolve(type, 'object'), problems);
    }
    const t = baseType(type);
    const ok: Record<string, (v: unknown) => boolean> = {
      string_t: (v) => typeof v === 'string',
      integer_t: (v) => Number.isInteger(v),
      long_t: (v) => Number.isInteger(v),
      float_t: (v) => typeof v === 'number',
      boolean_t: (v) => typeof v === 'boolean',
    };
    if (!(ok[t.base] ?? (() => true))(value)) return problems.push(`${where}: ${type} expected, got ${typeof value}`);
    if (t.regex && typeof value === 'string' && !new RegExp(t.regex).test(value))
      problems.push(`${where}: ${JSON.stringify(value)} is not a valid ${type}`);
    if (t.max_len && typeof value === 'string' && value.length > t.max_len)
      problems.push(`${where}: longer than ${t.max_len}`);
  }

  function checkObject(
    where: string,
    value: Record<string, unknown>,
    r: Resolved,
    problems: string[],
    profiles: string[] = [],
  ) {
    for (const [name, v] of Object.entries(value)) {
      const spec = r.attributes.get(name);
      if (!spec) problems.push(`${where}.${name}: not an attribute of this class or object`);
      else checkValue(`${where}.${name}`, v, spec, name, problems);
    }
    for (const [name, spec] of r.attributes) {
      const applies = !spec.fromProfile || profiles.includes(spec.fromProfile);
      if (spec.requirement === 'required' && applies && value[name] === undefined)
        problems.push(`${where}.${name}: required`);
    }
    const present = (names: string[]) => names.filter((n) => value[n] !== undefined).length;
    if (r.constraints?.at_least_one && present(r.constraints.at_least_one) === 0)
      problems.push(`${where}: needs at least one of ${r.constraints.at_least_one.join(', ')}`);
    if (r.constraints?.just_one && present(r.constraints.just_one) !== 1)
      problems.push(`${where}: needs exactly one of ${r.constraints.just_one.join(', ')}`);
  }

  return {
    version,
    read,
    validate(event) {
      const problems: string[] = [];
      const classUid = event.class_uid;
      const match = [...events.keys()].map((name) => ({ name, def: json<Definition>(events.get(name)!) }));
      const cls = match.find(({ def }) => {
        if (def.uid === undefined) return false;
        const category = resolve(def.name, 'event').category;
        return category !== undefined && categories[category]!.uid * 1000 + def.uid === classUid;
      });
      if (!cls) return [`class_uid ${String(classUid)}: not a class of the kept definitions`];
      const r = resolve(cls.name, 'event');
      const categoryUid = categories[r.category!]!.uid;
      if (event.category_uid !== categoryUid) problems.push(`category_uid: ${categoryUid} expected`);
      if (event.type_uid !== (classUid as number) * 100 + (event.activity_id as number))
        problems.push('type_uid: class_uid × 100 + activity_id expected');
      const profiles = (event.metadata as { profiles?: string[] } | undefined)?.profiles ?? [];
      checkObject(cls.name, event, r, problems, profiles);
      return problems;
    },
  };
}

interface TypeDef {
  type?: string;
  regex?: string;
  max_len?: number;
}
