// Validates ncbocr's Kubernetes manifests offline: every document against the
// schema of its apiVersion/kind, then the project's policies for them.
//
//   node validate_manifests.js --dir deploy/kubernetes [--ncbocr BIN]
//   node validate_manifests.js --rendered FILE [--ncbocr BIN]   (kubectl kustomize output)
//
// Schemas: the npm package kubernetes-models (its classes validate with ajv
// against the Kubernetes OpenAPI schemas: required fields, types, enums,
// quantities) and, because those schemas allow unknown fields as the API
// server does without strict field validation, the same package's TypeScript
// declarations compiled with the TypeScript compiler, whose excess-property
// check rejects a misspelled field. An apiVersion/kind the package does not
// know is an error. With --ncbocr, every container's ncbocr arguments are run
// with --help (a subcommand that does not exist fails) and the ConfigMap's
// configuration is loaded by that binary.
//
// Prints one line per problem ("FILE: what") and exits 1 if there is any.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");
const yaml = require("js-yaml");
const ts = require("typescript");

const STAGES = ["fetch", "ocr", "extract", "submit", "archive"];
const SPOOL_CLAIM = "ncbocr-spool";

const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--dir" || k === "--rendered" || k === "--ncbocr") a[k.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.dir === !a.rendered) throw new Error("give one of --dir DIR or --rendered FILE");
  return a;
}

// ------------------------------------------------------------ loading

function loadDocs(file) {
  let docs;
  try {
    docs = yaml.loadAll(fs.readFileSync(file, "utf8"));
  } catch (e) {
    problem(file, `not valid YAML: ${e.message.split("\n")[0]}`);
    return [];
  }
  return docs.filter((d) => d !== null && d !== undefined).map((doc, i) => ({ file, index: i, doc }));
}

// The kustomization's resources must be exactly the YAML files beside it.
function loadDir(dir) {
  const kfile = path.join(dir, "kustomization.yaml");
  if (!fs.existsSync(kfile)) {
    problem(dir, "has no kustomization.yaml");
    return [];
  }
  const k = loadDocs(kfile)[0];
  const resources = (k && k.doc && k.doc.resources) || [];
  if (resources.length === 0) problem(kfile, "lists no resources");
  const listed = new Set();
  for (const r of resources) {
    if (typeof r !== "string" || !fs.existsSync(path.join(dir, r))) problem(kfile, `resource ${r} does not exist`);
    else listed.add(path.normalize(r));
  }
  for (const f of fs.readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(f) || f === "kustomization.yaml") continue;
    if (!listed.has(f)) problem(path.join(dir, f), "is not listed in kustomization.yaml resources");
  }
  return [...listed].flatMap((r) => loadDocs(path.join(dir, r)));
}

// ------------------------------------------------------------ schemas

// "batch/v1" -> kubernetes-models/batch/v1, "v1" -> kubernetes-models/v1.
function modelOf(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  if (!/^[a-z0-9.]*\/?v[0-9]+[a-z0-9]*$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  let mod;
  try {
    mod = require(`kubernetes-models/${apiVersion}`);
  } catch (e) {
    return null;
  }
  return typeof mod[kind] === "function" ? { module: `kubernetes-models/${apiVersion}`, cls: mod[kind] } : null;
}

function where(d) {
  const name = d.doc && d.doc.metadata && d.doc.metadata.name;
  return `${d.file}${d.index > 0 ? ` (document ${d.index + 1})` : ""}${name ? ` ${d.doc.kind}/${name}` : ""}`;
}

function checkSchemas(docs) {
  const typed = [];
  for (const d of docs) {
    const m = modelOf(d.doc.apiVersion, d.doc.kind);
    if (!m) {
      problem(where(d), `unknown apiVersion/kind ${d.doc.apiVersion}/${d.doc.kind}`);
      continue;
    }
    try {
      new m.cls(d.doc).validate();
    } catch (e) {
      problem(where(d), `schema: ${e.message}`);
    }
    typed.push({ d, m });
  }
  checkKnownFields(typed);
}

// Each document as a TypeScript object literal of its kind's interface; the
// compiler names any field the schema does not have, and any wrong type.
function checkKnownFields(typed) {
  if (typed.length === 0) return;
  const base = path.dirname(require.resolve("kubernetes-models/package.json"));
  const root = path.join(path.dirname(path.dirname(base)), ".ncbocr-manifests");
  const sources = new Map();
  typed.forEach(({ d, m }, i) => {
    const text =
      `import type { I${d.doc.kind} } from "${m.module}";\n` +
      `export const doc: I${d.doc.kind} = ${JSON.stringify(d.doc, null, 1)};\n`;
    sources.set(path.join(root, `doc${i}.ts`), { text, d });
  });
  const options = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) =>
    sources.has(f) ? ts.createSourceFile(f, sources.get(f).text, lang) : getSourceFile(f, lang, ...rest);
  host.fileExists = (f) => sources.has(f) || fileExists(f);
  host.readFile = (f) => (sources.has(f) ? sources.get(f).text : readFile(f));
  const program = ts.createProgram([...sources.keys()], options, host);
  for (const diag of ts.getPreEmitDiagnostics(program)) {
    const src = diag.file && sources.get(diag.file.fileName);
    const msg = ts.flattenDiagnosticMessageText(diag.messageText, " ").replace(/\s+/g, " ");
    problem(src ? where(src.d) : "typescript", `schema: ${msg}`);
  }
}

// ------------------------------------------------------------ policies

const podSpecOf = (cj) => cj.spec?.jobTemplate?.spec?.template?.spec || {};
const containersOf = (pod) => [...(pod.initContainers || []), ...(pod.containers || [])];
// The ncbocr subcommand of a container's args: the first that is not an option.
const subcommandOf = (c) => (c.args || []).find((a) => !a.startsWith("-"));

function configOf(docs) {
  for (const d of docs) {
    if (d.doc.kind === "ConfigMap" && d.doc.data && typeof d.doc.data["ncbocr.yaml"] === "string") {
      try {
        return { d, text: d.doc.data["ncbocr.yaml"], config: yaml.load(d.doc.data["ncbocr.yaml"]) || {} };
      } catch (e) {
        problem(where(d), `ncbocr.yaml is not valid YAML: ${e.message.split("\n")[0]}`);
        return null;
      }
    }
  }
  problem("manifests", "no ConfigMap holds ncbocr.yaml");
  return null;
}

function checkPolicies(docs, ncbocr) {
  const cfg = configOf(docs);
  const spoolPath = (cfg && cfg.config.spool) || "/var/spool/ncbocr";
  const backupDir = cfg && cfg.config.backup && cfg.config.backup.dir;
  if (cfg && !(cfg.config.metrics && cfg.config.metrics.pushgateway_url)) {
    problem(where(cfg.d), "metrics.pushgateway_url is not set (pods have no textfile collector)");
  }
  if (cfg && !(cfg.config.metrics && cfg.config.metrics.instance)) {
    problem(where(cfg.d), "metrics.instance is not set: each pod would push its own Pushgateway group (instance=<pod name>)");
  }
  const pvcs = new Map(docs.filter((d) => d.doc.kind === "PersistentVolumeClaim").map((d) => [d.doc.metadata?.name, d]));
  const spool = pvcs.get(SPOOL_CLAIM);
  if (!spool) problem("manifests", `no PersistentVolumeClaim ${SPOOL_CLAIM} for the spool`);
  else if (!(spool.doc.spec?.accessModes || []).includes("ReadWriteMany")) {
    problem(where(spool), "the spool's volume must be ReadWriteMany (stages run in pods on any node)");
  }

  const cronjobs = docs.filter((d) => d.doc.kind === "CronJob");
  const bySub = new Map();
  for (const d of docs) {
    if (["Pod", "Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].includes(d.doc.kind)) {
      problem(where(d), `a ${d.doc.kind}: every ncbocr workload here is a CronJob`);
    }
  }
  for (const d of cronjobs) {
    const w = where(d);
    const spec = d.doc.spec || {};
    if (spec.concurrencyPolicy !== "Forbid") {
      problem(w, `concurrencyPolicy is ${spec.concurrencyPolicy || "unset (Allow)"}, not Forbid`);
    }
    const job = spec.jobTemplate?.spec || {};
    const subs = (podSpecOf(d.doc).containers || []).map(subcommandOf);
    if (subs.includes("ocr")) {
      // ocr runs share the fetched queue claim by claim: N pods, N times the work.
      if ((job.parallelism ?? 1) < 2) {
        problem(w, `parallelism ${job.parallelism ?? 1}: the ocr stage's pods share its queue; give bursts N > 1 pods`);
      }
      if (job.completions != null && job.completions < (job.parallelism ?? 1)) {
        problem(w, `completions ${job.completions} below parallelism ${job.parallelism}: Kubernetes runs at most completions pods`);
      }
    } else if ((job.parallelism ?? 1) !== 1) {
      problem(w, `parallelism ${job.parallelism}: a second pod of this stage finds the stage lock held and does nothing`);
    }
    if (!job.activeDeadlineSeconds) problem(w, "no activeDeadlineSeconds: a hung run would block the schedule");
    const pod = podSpecOf(d.doc);
    const psc = pod.securityContext || {};
    if (psc.runAsNonRoot !== true) problem(w, "pod securityContext.runAsNonRoot is not true");
    if (!Number.isInteger(psc.runAsUser) || psc.runAsUser === 0) {
      problem(w, "pod securityContext.runAsUser is not a non-zero uid (the image's USER is a name)");
    }
    if (pod.hostname) problem(w, `hostname ${pod.hostname}: every pod alike hides which pod ran a stage from status`);
    const volumes = new Map((pod.volumes || []).map((v) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.secret && v.secret.defaultMode !== 0o400) {
        problem(w, `secret volume ${v.name} has defaultMode ${v.secret.defaultMode}, not 0400 (256)`);
      }
      if (v.projected && (v.projected.sources || []).some((s) => s.secret)) {
        problem(w, `volume ${v.name} projects a Secret: use a secret volume with defaultMode 0400`);
      }
    }
    const main = [];
    for (const c of containersOf(pod)) {
      const cw = `${w} container ${c.name}`;
      const sc = c.securityContext || {};
      if (sc.readOnlyRootFilesystem !== true) problem(cw, "readOnlyRootFilesystem is not true");
      if (sc.allowPrivilegeEscalation !== false) problem(cw, "allowPrivilegeEscalation is not false");
      if (sc.runAsUser === 0 || sc.runAsNonRoot === false) problem(cw, "runs as root");
      for (const kind of ["requests", "limits"]) {
        for (const r of ["cpu", "memory"]) {
          if (!c.resources?.[kind]?.[r]) problem(cw, `no resources.${kind}.${r}`);
        }
      }
      for (const e of c.env || []) {
        if (e.valueFrom && e.valueFrom.secretKeyRef) problem(cw, `environment variable ${e.name} from a Secret: secrets go in files`);
      }
      for (const m of c.volumeMounts || []) {
        const v = volumes.get(m.name);
        if (!v) problem(cw, `mounts volume ${m.name}, which the pod does not have`);
        else if (v.secret && m.readOnly !== true) problem(cw, `mounts secret volume ${m.name} writable`);
      }
      const mounted = (p) => (c.volumeMounts || []).some((m) => m.mountPath === p);
      if (!c.command) main.push({ c, cw, mounted });
      else if (c.image !== (pod.containers || [])[0]?.image) problem(cw, "a helper container not of the ncbocr image");
    }
    if (main.length !== 1) {
      problem(w, `${main.length} ncbocr containers (the image's entrypoint, no command): want one`);
      continue;
    }
    const { c, cw, mounted } = main[0];
    const sub = subcommandOf(c);
    if (!sub) {
      problem(cw, "no ncbocr subcommand in args");
      continue;
    }
    const spoolMount = (c.volumeMounts || []).find((m) => m.mountPath === spoolPath);
    if (!spoolMount || volumes.get(spoolMount.name)?.persistentVolumeClaim?.claimName !== SPOOL_CLAIM) {
      problem(cw, `does not mount ${SPOOL_CLAIM} at the spool (${spoolPath})`);
    }
    if (!mounted("/etc/ncbocr")) problem(cw, "no configuration at /etc/ncbocr");
    // The root file system is read-only: what ncbocr and its libraries write
    // outside the spool goes to TMPDIR (/tmp) or HOME (/var/lib/ncbocr).
    for (const p of ["/tmp", "/var/lib/ncbocr"]) {
      if (!mounted(p)) problem(cw, `no volume at ${p}: the root file system is read-only`);
    }
    if (sub === "backup") {
      const m = (c.volumeMounts || []).find((x) => x.mountPath === backupDir);
      const claim = m && volumes.get(m.name)?.persistentVolumeClaim?.claimName;
      if (!backupDir) problem(cw, "backup.dir is not set in the ConfigMap");
      else if (!claim || claim === SPOOL_CLAIM) {
        problem(cw, `backup.dir ${backupDir} is not a second PersistentVolumeClaim (the spool's volume is ${SPOOL_CLAIM})`);
      } else if (!pvcs.has(claim)) problem(cw, `mounts PersistentVolumeClaim ${claim}, which is not defined`);
      else if (m.readOnly) problem(cw, `mounts the backup volume read-only`);
    }
    const key = sub === "alert" ? c.args.filter((a) => a !== "-q").join(" ") : sub;
    bySub.set(key, [...(bySub.get(key) || []), cw]);
    if (ncbocr) checkArgs(ncbocr, cw, c.args);
  }
  for (const s of [...STAGES, "backup", "alert --check", "alert --summary"]) {
    const have = bySub.get(s) || [];
    if (have.length === 0) problem("manifests", `no CronJob runs ncbocr ${s}`);
    if (have.length > 1) problem("manifests", `${have.length} CronJobs run ncbocr ${s}: ${have.join(", ")}`);
  }
  if (ncbocr && cfg) checkConfigLoads(ncbocr, cfg, cronjobs);
}

// The arguments name a real subcommand: with --help, the binary describes it
// and exits 0; a subcommand it does not have is a usage error.
function checkArgs(ncbocr, cw, args) {
  const r = spawnSync(ncbocr, [...args, "--help"], { encoding: "utf8", timeout: 20000 });
  const sub = subcommandOf({ args });
  if (r.status !== 0 || !new RegExp(`\\b${sub}\\b`).test(r.stdout)) {
    problem(cw, `'ncbocr ${args.join(" ")}' is not a command this ncbocr has (--help exit ${r.status}: ${(r.stderr || "").trim().split("\n")[0]})`);
  }
}

// The ConfigMap's configuration, with the containers' environment, loads in
// this build's ncbocr (unknown keys, wrong types, impossible values exit 78).
function checkConfigLoads(ncbocr, cfg, cronjobs) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ncbocr-k8s-"));
  try {
    const file = path.join(tmp, "ncbocr.yaml");
    fs.writeFileSync(file, cfg.text, { mode: 0o600 });
    const env = { PATH: process.env.PATH, HOME: tmp };
    for (const d of cronjobs) {
      for (const c of podSpecOf(d.doc).containers || []) {
        for (const e of c.env || []) if (e.value !== undefined && e.name !== "NCBOCR_CONFIG") env[e.name] = e.value;
      }
    }
    const spool = path.join(tmp, "spool");
    fs.mkdirSync(spool, { mode: 0o700 });
    const r = spawnSync(ncbocr, ["--config", file, "--spool", spool, "status"], { encoding: "utf8", env, timeout: 20000 });
    if (r.status !== 0) {
      problem(where(cfg.d), `ncbocr.yaml does not load in ncbocr (status exit ${r.status}): ${(r.stderr || "").trim().split("\n")[0]}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ main

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`validate_manifests: ${e.message}`);
    return 64;
  }
  const docs = args.dir ? loadDir(args.dir) : loadDocs(args.rendered);
  for (const d of docs) {
    if (typeof d.doc !== "object" || Array.isArray(d.doc)) problem(where(d), "is not a mapping");
  }
  const objects = docs.filter((d) => typeof d.doc === "object" && !Array.isArray(d.doc));
  if (objects.length === 0) problem(args.dir || args.rendered, "no documents");
  checkSchemas(objects);
  checkPolicies(objects, args.ncbocr);
  for (const p of problems) console.log(p);
  const kinds = {};
  for (const d of objects) kinds[d.doc.kind] = (kinds[d.doc.kind] || 0) + 1;
  const summary = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ");
  console.log(`${problems.length === 0 ? "ok" : "FAILED"}: ${objects.length} documents (${summary}), ${problems.length} problems`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
