// Validates Kubernetes objects against the Kubernetes API schemas compiled into the npm
// packages kubernetes-models (core, apps, autoscaling, policy) and
// @kubernetes-models/prometheus-operator (ServiceMonitor). They are ES modules, so this runs as
// a child process of the jest test: JSON array of objects on stdin, JSON array of
// { id, message } problems on stdout (empty: all valid).
const PACKAGES = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator/monitoring.coreos.com',
};

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const base = PACKAGES[group] ?? (group === '' ? 'kubernetes-models' : `kubernetes-models/${group}`);
  const module = await import(`${base}/${version}/${kind}`);
  return module[kind];
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const problems = [];
for (const object of JSON.parse(input)) {
  const id = `${object.kind}/${object.metadata?.name}`;
  let Model;
  try {
    Model = await modelFor(object.apiVersion, object.kind);
  } catch (e) {
    problems.push({ id, message: `no schema for ${object.apiVersion} ${object.kind}: ${e.message}` });
    continue;
  }
  try {
    new Model(object).validate();
  } catch (e) {
    problems.push({ id, message: e.message });
  }
}
process.stdout.write(JSON.stringify(problems));
