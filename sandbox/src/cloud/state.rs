//! The cloud side's state and the path of one API call through it: service from the version,
//! authentication, faults, the operation, and the ambiguous-failure fault.

use super::cs::{self, CallContext, Cluster, CsState, NodePool};
use super::errors::{CloudError, CloudResult, Style};
use super::faults::{After, CloudFaultConfig, FaultEngine};
use super::ids;
use super::kube_hooks::KubeHooks;
use super::network::NetworkState;
use super::params::Params;
use super::ram::{self, RamState};
use super::signature::{self, Received, SignatureProblem};
use http::HeaderMap;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How far `x-acs-date` may be from the server clock.
const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// How the cloud side starts.
#[derive(Debug, Clone)]
pub struct CloudOptions {
    pub region: String,
    /// The sandbox's own AccessKey pair; random when unset.
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub faults: CloudFaultConfig,
    /// Port of the cloud listener; 0 picks an ephemeral port.
    pub port: u16,
    /// Bearer token required by the `/__sandbox/cloud/*` admin endpoints (none: open).
    pub admin_token: Option<String>,
}

impl Default for CloudOptions {
    fn default() -> Self {
        CloudOptions {
            region: "cn-hangzhou".into(),
            access_key_id: None,
            access_key_secret: None,
            faults: CloudFaultConfig::default(),
            port: 0,
            admin_token: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ram,
    Cs,
    Vpc,
    Ecs,
}

impl Service {
    pub fn from_version(version: &str) -> Option<Service> {
        match version {
            "2015-05-01" => Some(Service::Ram),
            "2015-12-15" => Some(Service::Cs),
            "2016-04-28" => Some(Service::Vpc),
            "2014-05-26" => Some(Service::Ecs),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::Ram => "ram",
            Service::Cs => "cs",
            Service::Vpc => "vpc",
            Service::Ecs => "ecs",
        }
    }

    pub fn style(self) -> Style {
        if self == Service::Cs {
            Style::Roa
        } else {
            Style::Rpc
        }
    }

    fn product(self) -> &'static str {
        match self {
            Service::Ram => "Ram",
            Service::Cs => "CS",
            Service::Vpc => "Vpc",
            Service::Ecs => "Ecs",
        }
    }

    fn host(self, region: &str) -> String {
        match self {
            Service::Ram => "ram.aliyuncs.com".into(),
            _ => format!("{}.{region}.aliyuncs.com", self.name()),
        }
    }
}

/// One received API request.
pub struct ApiCall {
    pub method: String,
    pub raw_path: String,
    pub raw_query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What to send back.
#[derive(Debug)]
pub enum Outcome {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without a complete response.
    Drop,
}

/// An STS credential the sandbox minted.
#[derive(Debug, Clone)]
pub struct StsCredential {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    /// Seconds since the epoch.
    pub expires: i64,
}

/// IDs of the seeded objects.
#[derive(Debug, Clone)]
pub struct SeedIds {
    pub cluster_id: String,
    pub vpc_id: String,
    /// (zone, vSwitch ID, CIDR) of the cluster VPC.
    pub vswitches: Vec<(String, String, String)>,
    pub security_group_id: String,
    /// (name, ID, zone).
    pub node_pools: Vec<(String, String, String)>,
    pub foreign_vswitch_id: String,
    pub foreign_security_group_id: String,
}

struct Data {
    ram: RamState,
    cs: CsState,
    net: NetworkState,
    sts: BTreeMap<String, StsCredential>,
}

struct Inner {
    region: String,
    root_key_id: String,
    root_secret: String,
    admin_token: Option<String>,
    hooks: Arc<dyn KubeHooks>,
    data: Mutex<Data>,
    faults: Mutex<FaultEngine>,
    nonces: Mutex<HashMap<String, i64>>,
    seed: SeedIds,
    default_sts: StsCredential,
}

/// The cloud side; cheap to clone.
#[derive(Clone)]
pub struct CloudState(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn mint_sts(ttl_secs: i64) -> StsCredential {
    StsCredential {
        access_key_id: format!("STS.{}", ids::alnum(25)),
        secret: ids::alnum(44),
        token: format!("CAIS{}", ids::alnum(120)),
        expires: time::OffsetDateTime::now_utc().unix_timestamp() + ttl_secs,
    }
}

impl CloudState {
    /// Seeds the network, the registered cluster and its node pools, and assigns the cluster's
    /// cloud Nodes (`alibabacloud.com/external=true`) to the pool of their zone.
    pub fn new(opts: CloudOptions, hooks: Arc<dyn KubeHooks>) -> Result<Self, String> {
        super::faults::validate(&opts.faults)?;
        let region = opts.region.clone();
        let zones = [format!("{region}-h"), format!("{region}-i")];
        let zone_refs: Vec<&str> = zones.iter().map(String::as_str).collect();
        let net = NetworkState::seeded(&region, &zone_refs);
        let now = ids::now_iso();
        let sg = net.cluster_security_group().id.clone();
        let nodepools: Vec<NodePool> = zones
            .iter()
            .map(|zone| NodePool {
                id: ids::nodepool_id(),
                name: format!("np-cloud-{}", zone.rsplit('-').next().unwrap_or(zone)),
                zone: zone.clone(),
                vswitch_ids: net.cluster_vswitches().filter(|v| v.zone == *zone).map(|v| v.id.clone()).collect(),
                security_group_id: sg.clone(),
                labels: Vec::new(),
                taints: Vec::new(),
                synced_keys: Vec::new(),
                state: "active",
                created: now.clone(),
                updated: now.clone(),
            })
            .collect();
        for node in hooks.nodes() {
            if node.label(cs::EXTERNAL_LABEL) != Some("true") {
                continue;
            }
            if let Some(pool) = nodepools.iter().find(|p| node.label(cs::ZONE_LABEL) == Some(p.zone.as_str())) {
                hooks.set_node_labels(&node.name, &[(cs::NODEPOOL_LABEL.to_string(), Some(pool.id.clone()))])?;
            }
        }
        let cluster = Cluster {
            id: ids::cluster_id(),
            name: "hybrid-sandbox".into(),
            region: region.clone(),
            vpc_id: net.vpc_id.clone(),
            security_group_id: sg.clone(),
            created: now,
            addons: BTreeMap::new(),
            addon_tasks: BTreeMap::new(),
            nodepools,
        };
        let foreign =
            |vpc: &str| net.vswitches.iter().find(|v| v.vpc_id == vpc).map(|v| v.id.clone()).unwrap_or_default();
        let seed = SeedIds {
            cluster_id: cluster.id.clone(),
            vpc_id: net.vpc_id.clone(),
            vswitches: net.cluster_vswitches().map(|v| (v.zone.clone(), v.id.clone(), v.cidr.clone())).collect(),
            security_group_id: sg,
            node_pools: cluster.nodepools.iter().map(|p| (p.name.clone(), p.id.clone(), p.zone.clone())).collect(),
            foreign_vswitch_id: foreign(&net.foreign_vpc_id),
            foreign_security_group_id: net
                .security_groups
                .iter()
                .find(|g| g.vpc_id == net.foreign_vpc_id)
                .map(|g| g.id.clone())
                .unwrap_or_default(),
        };
        let mut clusters = BTreeMap::new();
        clusters.insert(cluster.id.clone(), cluster);
        let default_sts = mint_sts(12 * 3600);
        let mut sts = BTreeMap::new();
        sts.insert(default_sts.access_key_id.clone(), default_sts.clone());
        Ok(CloudState(Arc::new(Inner {
            region,
            root_key_id: opts.access_key_id.unwrap_or_else(ids::access_key_id),
            root_secret: opts.access_key_secret.unwrap_or_else(ids::access_key_secret),
            admin_token: opts.admin_token,
            hooks,
            data: Mutex::new(Data {
                ram: RamState::seeded(),
                cs: CsState { clusters, tasks: BTreeMap::new() },
                net,
                sts,
            }),
            faults: Mutex::new(FaultEngine::new(opts.faults)),
            nonces: Mutex::new(HashMap::new()),
            seed,
            default_sts,
        })))
    }

    pub fn region(&self) -> &str {
        &self.0.region
    }

    /// The sandbox's own AccessKey pair.
    pub fn root_credentials(&self) -> (&str, &str) {
        (&self.0.root_key_id, &self.0.root_secret)
    }

    pub fn seed_ids(&self) -> &SeedIds {
        &self.0.seed
    }

    /// An STS credential valid for 12 hours from the start.
    pub fn default_sts(&self) -> &StsCredential {
        &self.0.default_sts
    }

    pub fn admin_token(&self) -> Option<&str> {
        self.0.admin_token.as_deref()
    }

    /// Mints an STS credential valid for `ttl_secs` (negative: already expired).
    pub fn mint_sts(&self, ttl_secs: i64) -> StsCredential {
        let c = mint_sts(ttl_secs);
        lock(&self.0.data).sts.insert(c.access_key_id.clone(), c.clone());
        c
    }

    /// `export` lines for `sandbox.env`; `base_url` is the listener's `http://127.0.0.1:PORT`.
    pub fn env_vars(&self, base_url: &str) -> Vec<(&'static str, String)> {
        let s = &self.0.seed;
        let mut vswitch_map = serde_json::Map::new();
        for (zone, id, _) in &s.vswitches {
            if let Some(list) = vswitch_map.entry(zone.clone()).or_insert_with(|| json!([])).as_array_mut() {
                list.push(json!(id));
            }
        }
        let pools: Vec<&str> = s.node_pools.iter().map(|(_, id, _)| id.as_str()).collect();
        let sts = &self.0.default_sts;
        vec![
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", self.0.root_key_id.clone()),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", self.0.root_secret.clone()),
            ("ALIBABA_CLOUD_REGION", self.0.region.clone()),
            ("HYBRID_ENDPOINT_RAM", base_url.to_string()),
            ("HYBRID_ENDPOINT_CS", base_url.to_string()),
            ("HYBRID_ENDPOINT_VPC", base_url.to_string()),
            ("HYBRID_ENDPOINT_ECS", base_url.to_string()),
            ("HYBRID_SANDBOX_CLOUD_URL", base_url.to_string()),
            ("HYBRID_SANDBOX_CLOUD_FAULTS_URL", format!("{base_url}/__sandbox/cloud/faults")),
            ("HYBRID_SANDBOX_CLOUD_STATE_URL", format!("{base_url}/__sandbox/cloud/state")),
            ("HYBRID_SANDBOX_STS_ACCESS_KEY_ID", sts.access_key_id.clone()),
            ("HYBRID_SANDBOX_STS_ACCESS_KEY_SECRET", sts.secret.clone()),
            ("HYBRID_SANDBOX_STS_SECURITY_TOKEN", sts.token.clone()),
            ("HYBRID_SANDBOX_FOREIGN_VSWITCH_ID", s.foreign_vswitch_id.clone()),
            ("HYBRID_SANDBOX_FOREIGN_SECURITY_GROUP_ID", s.foreign_security_group_id.clone()),
            ("TF_VAR_cluster_id", s.cluster_id.clone()),
            ("TF_VAR_vpc_id", s.vpc_id.clone()),
            ("TF_VAR_vswitch_ids", Value::Object(vswitch_map).to_string()),
            ("TF_VAR_security_group_id", s.security_group_id.clone()),
            ("TF_VAR_node_pool_ids", json!(pools).to_string()),
        ]
    }

    pub fn faults_status(&self) -> Value {
        lock(&self.0.faults).status()
    }

    pub fn update_faults(&self, changes: &Value) -> Result<Value, String> {
        let mut f = lock(&self.0.faults);
        f.update(changes)?;
        Ok(f.status())
    }

    pub fn reset_faults(&self) -> Value {
        let mut f = lock(&self.0.faults);
        f.reset();
        f.status()
    }

    fn task_delay(&self) -> Duration {
        Duration::from_millis(lock(&self.0.faults).config().task_delay_ms)
    }

    /// Finishes running tasks whose time has come.
    pub fn advance_tasks(&self) {
        lock(&self.0.data).cs.advance(Instant::now(), self.0.hooks.as_ref());
    }

    /// Finishes every running task now.
    pub fn finish_all_tasks(&self) {
        let mut d = lock(&self.0.data);
        let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
        d.cs.advance(far, self.0.hooks.as_ref());
    }

    /// Every object, AccessKey secrets excluded.
    pub fn dump(&self) -> Value {
        self.advance_tasks();
        let d = lock(&self.0.data);
        json!({"ram": d.ram.dump(), "cs": d.cs.dump(), "network": d.net.dump(), "faults": lock(&self.0.faults).status()})
    }

    fn authenticate(&self, call: &ApiCall) -> CloudResult<()> {
        let received = Received {
            method: &call.method,
            raw_path: &call.raw_path,
            raw_query: call.raw_query.as_deref(),
            headers: &call.headers,
            body: &call.body,
        };
        let (auth, string_to_sign) = signature::prepare(&received).map_err(problem_error)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let date = header(&call.headers, "x-acs-date").unwrap_or("");
        let Some(signed_at) = ids::parse_iso(date) else {
            return Err(CloudError::invalid(
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            ));
        };
        if (now - signed_at).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(CloudError::invalid(
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let token = header(&call.headers, "x-acs-security-token");
        let secret = {
            let d = lock(&self.0.data);
            if auth.access_key_id == self.0.root_key_id {
                if token.is_some() {
                    return Err(malformed_token());
                }
                self.0.root_secret.clone()
            } else if let Some(sts) = d.sts.get(&auth.access_key_id) {
                match token {
                    None => {
                        return Err(CloudError::invalid(
                            "MissingSecurityToken",
                            "SecurityToken is mandatory for this action.",
                        ))
                    }
                    Some(t) if t != sts.token => return Err(malformed_token()),
                    Some(_) if sts.expires <= now => {
                        return Err(CloudError::invalid(
                            "InvalidSecurityToken.Expired",
                            "Specified SecurityToken is expired.",
                        ))
                    }
                    Some(_) => sts.secret.clone(),
                }
            } else if let Some((secret, active)) = d.ram.key_secret(&auth.access_key_id) {
                if !active {
                    return Err(CloudError::invalid(
                        "InvalidAccessKeyId.Inactive",
                        "Specified access key is disabled.",
                    ));
                }
                if token.is_some() {
                    return Err(malformed_token());
                }
                secret
            } else {
                return Err(CloudError::not_found("InvalidAccessKeyId.NotFound", "Specified access key is not found."));
            }
        };
        signature::check(&auth, &string_to_sign, &secret).map_err(problem_error)?;
        let nonce = header(&call.headers, "x-acs-signature-nonce").unwrap_or("").to_string();
        let mut nonces = lock(&self.0.nonces);
        nonces.retain(|_, seen| now - *seen <= 2 * MAX_CLOCK_SKEW_SECS);
        if nonces.insert(nonce, now).is_some() {
            return Err(CloudError::invalid("SignatureNonceUsed", "Specified signature nonce was used already."));
        }
        Ok(())
    }

    fn run(&self, service: Service, action: &str, call: &ApiCall) -> CloudResult<Value> {
        match service {
            Service::Cs => {
                let (routed, path_params) =
                    cs::route(&call.method, &call.raw_path).ok_or_else(CloudError::api_not_found)?;
                if routed != action {
                    return Err(CloudError::api_not_found());
                }
                let query = Params::from_pairs(signature::query_pairs(call.raw_query.as_deref()));
                let body: Value = if call.body.iter().all(u8::is_ascii_whitespace) {
                    Value::Null
                } else {
                    serde_json::from_slice(&call.body).map_err(|e| {
                        CloudError::invalid("InvalidParameter", format!("the request body is not valid JSON: {e}"))
                    })?
                };
                let delay = self.task_delay();
                let mut fail = || lock(&self.0.faults).task_fails();
                let mut ctx = CallContext { task_delay: delay, fail_task: &mut fail, hooks: self.0.hooks.as_ref() };
                lock(&self.0.data).cs.call(action, &path_params, &query, &body, &mut ctx)
            }
            _ => {
                if call.raw_path != "/" || !(call.method == "POST" || call.method == "GET") {
                    return Err(CloudError::api_not_found());
                }
                let mut pairs = signature::query_pairs(call.raw_query.as_deref());
                let form = header(&call.headers, "content-type")
                    .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
                if form {
                    pairs.extend(signature::query_pairs(Some(&String::from_utf8_lossy(&call.body))));
                }
                let params = Params::from_pairs(pairs);
                let mut d = lock(&self.0.data);
                match (service, action) {
                    (Service::Ram, _) => d.ram.call(action, &params),
                    (Service::Vpc, "DescribeVSwitches") => d.net.describe_vswitches(&params),
                    (Service::Ecs, "DescribeSecurityGroups") => d.net.describe_security_groups(&params),
                    _ => Err(CloudError::api_not_found()),
                }
            }
        }
    }

    /// Handles one API call end to end.
    pub async fn process(&self, call: ApiCall) -> Outcome {
        self.advance_tasks();
        let request_id = ids::request_id();
        let query = signature::query_pairs(call.raw_query.as_deref());
        let from_query = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let action = header(&call.headers, "x-acs-action").map(str::to_string).or_else(|| from_query("Action"));
        let version = header(&call.headers, "x-acs-version").map(str::to_string).or_else(|| from_query("Version"));
        let Some(action) = action.filter(|a| !a.is_empty()) else {
            return error_outcome(&CloudError::missing("Action"), Style::Rpc, &request_id, "aliyuncs.com", "", None);
        };
        let Some(service) = version.as_deref().and_then(Service::from_version) else {
            let e = CloudError::invalid("InvalidVersion", "Specified parameter Version is not valid.");
            return error_outcome(&e, Style::Rpc, &request_id, "aliyuncs.com", "", None);
        };
        let style = service.style();
        let host = service.host(&self.0.region);
        let product = service.product();
        let (latency, retry_after) = {
            let f = lock(&self.0.faults);
            (f.config().latency_ms, f.config().retry_after_ms)
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if let Err(e) = self.authenticate(&call) {
            return error_outcome(&e, style, &request_id, &host, product, None);
        }
        let before = lock(&self.0.faults).before(service.name(), &action, style);
        if before.drop {
            return Outcome::Drop;
        }
        if let Some(e) = before.reject {
            return error_outcome(&e, style, &request_id, &host, product, retry_after);
        }
        let result = self.run(service, &action, &call);
        let mutating = match service {
            Service::Cs => cs::is_mutating(&call.method),
            Service::Ram => ram::is_mutating(&action),
            _ => false,
        };
        if result.is_ok() && mutating && service == Service::Cs {
            self.schedule_task_completion();
        }
        match result {
            Err(e) => error_outcome(&e, style, &request_id, &host, product, None),
            Ok(body) => {
                match lock(&self.0.faults).after(service.name(), &action, mutating, before.after) {
                    Some(After::Drop) => return Outcome::Drop,
                    Some(After::Unavailable) => {
                        return error_outcome(
                            &CloudError::service_unavailable(),
                            style,
                            &request_id,
                            &host,
                            product,
                            None,
                        )
                    }
                    None => {}
                }
                success_outcome(body, style, service, &request_id)
            }
        }
    }

    /// Finishes tasks when they are due even if nobody calls the API meanwhile.
    fn schedule_task_completion(&self) {
        let Some(due) = lock(&self.0.data).cs.next_due() else { return };
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        let me = self.clone();
        handle.spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(due) + Duration::from_millis(5)).await;
            me.advance_tasks();
        });
    }
}

fn malformed_token() -> CloudError {
    CloudError::invalid("InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
}

fn problem_error(p: SignatureProblem) -> CloudError {
    match p {
        SignatureProblem::Incomplete(m) => CloudError::invalid(
            "IncompleteSignature",
            format!("The request signature does not conform to Aliyun standards. {m}"),
        ),
        SignatureProblem::Mismatch { reason, string_to_sign } => {
            let tail = string_to_sign.map(|s| format!(" server string to sign is:{s}")).unwrap_or_default();
            CloudError::invalid(
                "SignatureDoesNotMatch",
                format!("Specified signature is not matched with our calculation ({reason}).{tail}"),
            )
        }
    }
}

fn json_headers(request_id: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json;charset=utf-8".into()),
        ("x-acs-request-id".into(), request_id.to_string()),
    ]
}

fn error_outcome(
    e: &CloudError,
    style: Style,
    request_id: &str,
    host: &str,
    product: &str,
    retry_after_ms: Option<u64>,
) -> Outcome {
    let mut headers = json_headers(request_id);
    if let (Some(ms), true) = (retry_after_ms, e.code.starts_with("Throttling")) {
        headers.push(("x-acs-retry-after".into(), ms.to_string()));
    }
    Outcome::Respond {
        status: e.status,
        headers,
        body: e.body(style, request_id, host, product).to_string().into_bytes(),
    }
}

/// RPC bodies carry `RequestId`; CS bodies carry `request_id` where the response model has one.
fn success_outcome(mut body: Value, style: Style, service: Service, request_id: &str) -> Outcome {
    if let Some(obj) = body.as_object_mut() {
        match style {
            Style::Rpc => {
                obj.insert("RequestId".into(), json!(request_id));
            }
            Style::Roa
                if service == Service::Cs && (obj.contains_key("task_id") || obj.contains_key("nodepool_id")) =>
            {
                obj.insert("request_id".into(), json!(request_id));
            }
            Style::Roa => {}
        }
    }
    Outcome::Respond { status: 200, headers: json_headers(request_id), body: body.to_string().into_bytes() }
}
