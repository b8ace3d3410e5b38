//! The engine's logic, against a runtime that makes no kernel object.

use super::*;
use crate::param::{Params, Value};
use crate::runtime::{KernelRefs, NullRuntime};
use crate::snapshot::Subsys;
use crate::zone::Status;
use std::sync::Mutex as StdMutex;

fn engine_with(config: EngineConfig) -> (Engine, Arc<NullRuntime>) {
    let rt = Arc::new(NullRuntime::new());
    (Engine::new(rt.clone(), config), rt)
}

fn engine() -> (Engine, Arc<NullRuntime>) {
    engine_with(EngineConfig {
        destroy_timeout: Duration::from_millis(300),
        ..Default::default()
    })
}

fn args(a: &[&str]) -> Params {
    params_from_args(a).unwrap()
}

const ROOT: Caller = Caller::ROOT;

/// jail_set with `name=value` words: the form every jail test uses.
async fn jset(e: &Engine, caller: &Caller, a: &[&str], flags: JailFlags) -> Result<ZoneId, Error> {
    e.jail_set(caller, args(a), flags).await
}

async fn running(e: &Engine, name: &str) -> ZoneId {
    let id = e
        .create(&ROOT, args(&[&format!("name={name}"), "persist"]))
        .await
        .unwrap();
    e.boot(&ROOT, id).await.unwrap();
    id
}

fn status(e: &Engine, id: ZoneId) -> Option<Status> {
    e.snapshot().zone(id).map(|z| z.status)
}

// ---- jail(2): jail_set errors ------------------------------------------------

#[tokio::test]
async fn jail_set_by_non_root_is_eperm() {
    let (e, _) = engine();
    let err = jset(&e, &Caller::user(1000), &["name=a"], JailFlags::CREATE)
        .await
        .unwrap_err();
    assert_eq!(err, Error::NotRoot);
    assert_eq!(err.errno(), crate::errno::EPERM);
}

#[tokio::test]
async fn jail_set_beyond_children_max_is_eperm() {
    let (e, _) = engine();
    jset(&e, &ROOT, &["name=a", "children.max=1"], JailFlags::CREATE)
        .await
        .unwrap();
    jset(&e, &ROOT, &["name=a.b"], JailFlags::CREATE)
        .await
        .unwrap();
    let err = jset(&e, &ROOT, &["name=a.c"], JailFlags::CREATE)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ChildrenMax { ref parent, max: 1 } if parent == "a"));
    assert_eq!(err.errno(), crate::errno::EPERM);
}

#[tokio::test]
async fn jail_set_less_restrictive_than_parent_is_eperm() {
    let (e, _) = engine();
    jset(
        &e,
        &ROOT,
        &["name=a", "children.max=2", "path=/srv/a"],
        JailFlags::CREATE,
    )
    .await
    .unwrap();
    let err = jset(
        &e,
        &ROOT,
        &["name=a.b", "allow.raw_sockets"],
        JailFlags::CREATE,
    )
    .await
    .unwrap_err();
    assert_eq!(err.errno(), crate::errno::EPERM);
    assert!(
        matches!(err, Error::LessRestrictive { ref param, .. } if param == "allow.raw_sockets")
    );
    let err = jset(
        &e,
        &ROOT,
        &["name=a.c", "path=/srv/other"],
        JailFlags::CREATE,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::LessRestrictive { ref param, .. } if param == "path"));
}

#[tokio::test]
async fn jail_set_of_missing_jail_without_create_is_enoent() {
    let (e, _) = engine();
    let err = jset(&e, &ROOT, &["name=nope", "persist"], JailFlags::UPDATE)
        .await
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENOENT);
}

#[tokio::test]
async fn jail_set_of_jid_in_another_branch_is_enoent() {
    let (e, _) = engine();
    let a = jset(&e, &ROOT, &["name=a", "children.max=1"], JailFlags::CREATE)
        .await
        .unwrap();
    let b = jset(&e, &ROOT, &["name=b"], JailFlags::CREATE)
        .await
        .unwrap();
    let inside_a = Caller { uid: 0, zone: a };
    let err = jset(
        &e,
        &inside_a,
        &[&format!("jid={b}"), "persist"],
        JailFlags::UPDATE,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::OtherBranch(_)));
    assert_eq!(err.errno(), crate::errno::ENOENT);
}

#[tokio::test]
async fn jail_set_create_of_existing_without_update_is_eexist() {
    let (e, _) = engine();
    jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap();
    let err = jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap_err();
    assert_eq!(err, Error::Exists("a".into()));
    assert_eq!(err.errno(), crate::errno::EEXIST);
}

#[tokio::test]
async fn jail_set_create_and_update_together_creates_or_updates() {
    let (e, _) = engine();
    let both = JailFlags::CREATE | JailFlags::UPDATE;
    let id = jset(&e, &ROOT, &["name=a"], both).await.unwrap();
    let again = jset(&e, &ROOT, &["name=a", "host.hostname=h"], both)
        .await
        .unwrap();
    assert_eq!(id, again);
    let (_, p) = e
        .jail_get(&ROOT, &JailKey::Name("a".into()), JailFlags::default())
        .unwrap();
    assert_eq!(p.str("host.hostname"), Some("h"));
}

#[test]
fn jail_set_bad_size_is_einval() {
    let err = params_from_args(&["name=a", "zone.max-swap=12Q"]).unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
    let err = params_from_args(&["name=a", "children.max=many"]).unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
}

#[test]
fn jail_set_value_out_of_range_is_einval() {
    let err = params_from_args(&["name=a", "jid=1000000"]).unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
    let err = params_from_args(&["name=a", "enforce_statfs=7"]).unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
}

#[test]
fn jail_set_unknown_parameter_is_einval() {
    let err = params_from_args(&["name=a", "no.such.thing=1"]).unwrap_err();
    assert!(
        err.to_string().contains("unknown parameter: no.such.thing"),
        "{err}"
    );
    assert_eq!(err.errno(), crate::errno::EINVAL);
}

#[tokio::test]
async fn jail_set_without_create_or_update_is_einval() {
    let (e, _) = engine();
    let err = jset(&e, &ROOT, &["name=a"], JailFlags::ATTACH)
        .await
        .unwrap_err();
    assert_eq!(err, Error::NoCreateOrUpdate);
    assert_eq!(err.errno(), crate::errno::EINVAL);
}

#[tokio::test]
async fn jail_set_name_too_long_is_enametoolong() {
    let (e, _) = engine();
    let long = format!("name={}", "x".repeat(65));
    let err = jset(&e, &ROOT, &[&long], JailFlags::CREATE)
        .await
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENAMETOOLONG);
    let err = params_from_args(&[&format!("host.hostname={}", "h".repeat(65))]).unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENAMETOOLONG);
}

#[tokio::test]
async fn jail_set_with_no_free_jid_is_eagain() {
    let (e, _) = engine_with(EngineConfig {
        max_id: 3,
        ..Default::default()
    });
    for n in ["a", "b", "c"] {
        jset(&e, &ROOT, &[&format!("name={n}")], JailFlags::CREATE)
            .await
            .unwrap();
    }
    let err = jset(&e, &ROOT, &["name=d"], JailFlags::CREATE)
        .await
        .unwrap_err();
    assert_eq!(err, Error::NoFreeId);
    assert_eq!(err.errno(), crate::errno::EAGAIN);
}

#[tokio::test]
async fn jail_set_update_of_unchangeable_parameter_is_einval() {
    let (e, _) = engine();
    jset(&e, &ROOT, &["name=a", "path=/srv/a"], JailFlags::CREATE)
        .await
        .unwrap();
    let err = jset(&e, &ROOT, &["name=a", "path=/srv/b"], JailFlags::UPDATE)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unchangeable { ref param, .. } if param == "path"));
    assert_eq!(err.errno(), crate::errno::EINVAL);
    // The same value is no change, and a changeable one is taken.
    jset(
        &e,
        &ROOT,
        &["name=a", "path=/srv/a", "zone.max-processes=10"],
        JailFlags::UPDATE,
    )
    .await
    .unwrap();
    let err = jset(&e, &ROOT, &["name=a", "children.cur=3"], JailFlags::UPDATE)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }));
}

#[tokio::test]
async fn jail_set_update_reaches_a_dying_jail_only_with_dying() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let hold = e.hold(id, HoldKind::ZoneRef).unwrap();
    assert!(matches!(e.halt(&ROOT, id).await, Err(Error::Busy { .. })));
    assert_eq!(status(&e, id), Some(Status::Dying));
    let err = jset(&e, &ROOT, &["name=a", "host.hostname=x"], JailFlags::UPDATE)
        .await
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENOENT);
    jset(
        &e,
        &ROOT,
        &["name=a", "host.hostname=x"],
        JailFlags::UPDATE | JailFlags::DYING,
    )
    .await
    .unwrap();
    drop(hold);
}

#[tokio::test]
async fn jail_set_create_replaces_a_dying_jail_of_the_same_name() {
    let (e, _) = engine();
    let old = running(&e, "a").await;
    let hold = e.hold(old, HoldKind::ZoneRef).unwrap();
    assert!(e.halt(&ROOT, old).await.is_err());
    let new = jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap();
    // The dying zone keeps its id until it is dead: the new one gets another.
    assert_ne!(new, old);
    assert_eq!(e.lookup(&ROOT, "a").unwrap(), new);
    // Explicitly asking for the dying zone's jid replaces it too.
    let by_jid = jset(
        &e,
        &ROOT,
        &["name=b", &format!("jid={old}")],
        JailFlags::CREATE,
    )
    .await
    .unwrap();
    assert_eq!(by_jid, old);
    drop(hold);
}

// ---- jail(2): jail_get, jail_attach, jail_remove errors ----------------------

#[tokio::test]
async fn jail_get_of_missing_jail_is_enoent() {
    let (e, _) = engine();
    let err = e
        .jail_get(&ROOT, &JailKey::Name("x".into()), JailFlags::default())
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENOENT);
    let err = e
        .jail_get(&ROOT, &JailKey::Jid(ZoneId(7)), JailFlags::default())
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENOENT);
}

#[tokio::test]
async fn jail_get_of_jid_in_another_branch_is_enoent() {
    let (e, _) = engine();
    let a = jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap();
    let b = jset(&e, &ROOT, &["name=b"], JailFlags::CREATE)
        .await
        .unwrap();
    let err = e
        .jail_get(
            &Caller { uid: 0, zone: a },
            &JailKey::Jid(b),
            JailFlags::default(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::OtherBranch(_)));
    assert_eq!(err.errno(), crate::errno::ENOENT);
}

#[tokio::test]
async fn jail_get_lastjid_walks_every_jail_then_is_enoent() {
    let (e, _) = engine();
    for n in ["a", "b", "c"] {
        jset(&e, &ROOT, &[&format!("name={n}")], JailFlags::CREATE)
            .await
            .unwrap();
    }
    let mut last = 0;
    let mut names = Vec::new();
    loop {
        match e.jail_get(&ROOT, &JailKey::LastJid(last), JailFlags::default()) {
            Ok((id, p)) => {
                names.push(p.str("name").unwrap().to_string());
                last = id.0;
            }
            Err(err) => {
                assert_eq!(err, Error::LastJid(3));
                assert_eq!(err.errno(), crate::errno::ENOENT);
                break;
            }
        }
    }
    assert_eq!(names, ["a", "b", "c"]);
}

#[tokio::test]
async fn jail_get_of_unknown_parameter_is_einval() {
    let (e, _) = engine();
    jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap();
    let key = JailKey::Name("a".into());
    let err = e
        .jail_get_params(&ROOT, &key, &["name", "bogus"], JailFlags::default())
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
    let (_, p) = e
        .jail_get_params(
            &ROOT,
            &key,
            &["name", "nopersist", "children.cur"],
            JailFlags::default(),
        )
        .unwrap();
    assert_eq!(p.int("children.cur"), Some(0));
    assert_eq!(p.bool("persist"), Some(false));
}

#[tokio::test]
async fn jail_get_finds_a_dying_jail_only_with_dying() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let _hold = e.hold(id, HoldKind::ZoneRef).unwrap();
    assert!(e.halt(&ROOT, id).await.is_err());
    assert!(
        e.jail_get(&ROOT, &JailKey::Jid(id), JailFlags::default())
            .is_err()
    );
    let (_, p) = e
        .jail_get(&ROOT, &JailKey::Jid(id), JailFlags::DYING)
        .unwrap();
    assert_eq!(p.bool("dying"), Some(true));
}

#[tokio::test]
async fn jail_attach_and_remove_of_missing_jid_are_einval() {
    let (e, _) = engine();
    let err = e.jail_attach(&ROOT, ZoneId(42)).unwrap_err();
    assert_eq!(err, Error::NoSuchId(42));
    assert_eq!(err.errno(), crate::errno::EINVAL);
    let err = e.jail_remove(&ROOT, ZoneId(42)).await.unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
}

#[tokio::test]
async fn jail_attach_and_remove_by_non_root_are_eperm() {
    let (e, _) = engine();
    let id = jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap();
    let user = Caller::user(1000);
    assert_eq!(
        e.jail_attach(&user, id).unwrap_err().errno(),
        crate::errno::EPERM
    );
    assert_eq!(
        e.jail_remove(&user, id).await.unwrap_err().errno(),
        crate::errno::EPERM
    );
}

// ---- hierarchy -----------------------------------------------------------------

#[tokio::test]
async fn children_max_is_enforced_at_every_level() {
    let (e, _) = engine();
    let c = JailFlags::CREATE;
    jset(&e, &ROOT, &["name=a", "children.max=2"], c)
        .await
        .unwrap();
    jset(&e, &ROOT, &["name=a.b", "children.max=5"], c)
        .await
        .unwrap();
    jset(&e, &ROOT, &["name=a.b.c"], c).await.unwrap();
    // b still has room, but a counts every descendant: b and c already.
    let err = jset(&e, &ROOT, &["name=a.b.d"], c).await.unwrap_err();
    assert!(matches!(err, Error::ChildrenMax { ref parent, max: 2 } if parent == "a"));
    let (_, p) = e
        .jail_get(&ROOT, &JailKey::Name("a".into()), JailFlags::default())
        .unwrap();
    assert_eq!(p.int("children.cur"), Some(2));
    // A child of a parent that does not exist is ENOENT.
    let err = jset(&e, &ROOT, &["name=x.y"], c).await.unwrap_err();
    assert_eq!(err.errno(), crate::errno::ENOENT);
}

/// Records the order of subsystem callbacks.
struct Recorder {
    name: &'static str,
    log: Arc<StdMutex<Vec<String>>>,
    fail_create_of: Option<&'static str>,
}

impl Subsystem for Recorder {
    fn name(&self) -> &str {
        self.name
    }
    fn create(&self, z: &ZoneSnapshot) -> Result<(), String> {
        self.log
            .lock()
            .unwrap()
            .push(format!("create {} {}", self.name, z.name));
        match self.fail_create_of {
            Some(n) if n == z.name.as_str() => Err("refused".into()),
            _ => Ok(()),
        }
    }
    fn shutdown(&self, z: &ZoneSnapshot) {
        self.log
            .lock()
            .unwrap()
            .push(format!("shutdown {} {}", self.name, z.name));
    }
    fn destroy(&self, z: &ZoneSnapshot) {
        self.log
            .lock()
            .unwrap()
            .push(format!("destroy {} {}", self.name, z.name));
    }
}

#[tokio::test]
async fn removing_a_jail_removes_its_children_first() {
    let (e, _) = engine();
    let log = Arc::new(StdMutex::new(Vec::new()));
    e.register(Arc::new(Recorder {
        name: "s",
        log: log.clone(),
        fail_create_of: None,
    }));
    let c = JailFlags::CREATE;
    let a = jset(&e, &ROOT, &["name=a", "children.max=3"], c)
        .await
        .unwrap();
    jset(&e, &ROOT, &["name=a.b", "children.max=1"], c)
        .await
        .unwrap();
    jset(&e, &ROOT, &["name=a.b.c"], c).await.unwrap();
    jset(&e, &ROOT, &["name=a.d"], c).await.unwrap();
    e.jail_remove(&ROOT, a).await.unwrap();
    let destroyed: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("destroy s ").map(str::to_string))
        .collect();
    let pos = |n: &str| destroyed.iter().position(|d| d == n).unwrap();
    assert!(pos("a.b.c") < pos("a.b"));
    assert!(pos("a.b") < pos("a"));
    assert!(pos("a.d") < pos("a"));
    assert_eq!(e.snapshot().zones.len(), 1, "only the global zone is left");
}

// ---- persist -------------------------------------------------------------------

#[tokio::test]
async fn a_non_persist_jail_is_removed_when_its_last_process_exits() {
    let (e, _) = engine();
    let id = jset(&e, &ROOT, &["name=a"], JailFlags::CREATE)
        .await
        .unwrap();
    e.boot(&ROOT, id).await.unwrap();
    let uniqid = e.snapshot().zone(id).unwrap().uniqid;
    e.runtime_event(RuntimeEvent::Empty { id, uniqid }).await;
    let s = e
        .wait_status(id, Status::Dead, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(s, Status::Dead);
    assert!(e.snapshot().zone(id).is_none());
}

#[tokio::test]
async fn a_persist_jail_stays_when_its_last_process_exits() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let uniqid = e.snapshot().zone(id).unwrap().uniqid;
    e.runtime_event(RuntimeEvent::Empty { id, uniqid }).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(status(&e, id), Some(Status::Running));
}

#[tokio::test]
async fn a_zone_whose_supervisor_is_gone_is_finished() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let uniqid = e.snapshot().zone(id).unwrap().uniqid;
    e.runtime_event(RuntimeEvent::Gone { id, uniqid }).await;
    let s = e
        .wait_status(id, Status::Dead, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(s, Status::Dead);
}

#[tokio::test]
async fn finishing_a_zone_whose_supervisor_is_gone_is_retried_until_it_succeeds() {
    let (e, rt) = engine();
    let id = running(&e, "a").await;
    let uniqid = e.snapshot().zone(id).unwrap().uniqid;
    rt.fail_shutdowns(2);
    e.runtime_event(RuntimeEvent::Gone { id, uniqid }).await;
    let s = e
        .wait_status(id, Status::Dead, Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(s, Status::Dead);
    assert!(e.snapshot().zone(id).is_none());
}

#[tokio::test]
async fn init_pid_follows_restarts_and_reads_0_once_init_exited() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let z = e.snapshot().zone(id).unwrap().clone();
    let (uniqid, first) = (z.uniqid, z.init_pid);
    assert_ne!(first, 0);
    let ev_exit = |pid| RuntimeEvent::InitExited {
        id,
        uniqid,
        pid,
        status: 9,
    };
    let init = |e: &Engine| e.snapshot().zone(id).unwrap().init_pid;
    // Restarted: exited, then started again under a new pid.
    e.runtime_event(ev_exit(first)).await;
    assert_eq!(init(&e), 0);
    e.runtime_event(RuntimeEvent::InitStarted {
        id,
        uniqid,
        pid: 7777,
    })
    .await;
    assert_eq!(init(&e), 7777);
    assert_eq!(
        e.getattr(&ROOT, id, "initpid").unwrap(),
        crate::param::Value::Int(7777)
    );
    // An exit of an init that is not the current one changes nothing.
    e.runtime_event(ev_exit(first)).await;
    assert_eq!(init(&e), 7777);
    // Exited for good (initnorestart): 0.
    e.runtime_event(ev_exit(7777)).await;
    assert_eq!(init(&e), 0);
    // A late start of an init that already exited does not bring it back.
    e.runtime_event(RuntimeEvent::InitStarted {
        id,
        uniqid,
        pid: 7777,
    })
    .await;
    assert_eq!(init(&e), 0);
    // Events of another zone's uniqid are not this zone's.
    e.runtime_event(RuntimeEvent::InitStarted {
        id,
        uniqid: uniqid + 100,
        pid: 5,
    })
    .await;
    assert_eq!(init(&e), 0);
}

#[tokio::test]
async fn boots_answer_does_not_bring_back_an_init_the_events_said_exited() {
    let (e, _) = engine();
    let id = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    let uniqid = e.snapshot().zone(id).unwrap().uniqid;
    // NullRuntime's boot answers the next pid; the events tell first that
    // this pid exited (init died at once) — the answer must not stand.
    let next = e.snapshot().zone(id).unwrap().zsched_pid + 1;
    e.with_zone(uniqid, |z| z.init_gone = next);
    let b = e.boot(&ROOT, id).await.unwrap();
    assert_eq!(b.init_pid, 0);
    assert_eq!(e.snapshot().zone(id).unwrap().init_pid, 0);
    assert_eq!(e.snapshot().zone(id).unwrap().status, Status::Running);
}

// ---- status transitions -----------------------------------------------------------

#[tokio::test]
async fn boot_is_refused_unless_ready() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let err = e.boot(&ROOT, id).await.unwrap_err();
    assert!(matches!(&err, Error::BadState { op, .. } if op == "boot"));
    assert_eq!(err.errno(), crate::errno::EINVAL);
    e.shutdown(&ROOT, id).await.unwrap();
    assert_eq!(status(&e, id), Some(Status::Down));
    assert!(matches!(
        e.boot(&ROOT, id).await,
        Err(Error::BadState { .. })
    ));
}

#[tokio::test]
async fn destroy_is_refused_unless_down() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let err = e.destroy(&ROOT, id).await.unwrap_err();
    assert!(matches!(&err, Error::BadState { op, .. } if op == "destroy"));
    let ready = e.create(&ROOT, args(&["name=b"])).await.unwrap();
    assert!(matches!(
        e.destroy(&ROOT, ready).await,
        Err(Error::BadState { .. })
    ));
}

#[tokio::test]
async fn reboot_is_refused_unless_running() {
    let (e, _) = engine();
    let id = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    assert!(matches!(
        e.reboot(&ROOT, id).await,
        Err(Error::BadState { ref op, .. }) if op == "reboot"
    ));
}

#[tokio::test]
async fn setattr_is_refused_after_ready_except_phys_mcap() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let err = e
        .setattr(&ROOT, id, "bootargs", Value::Str("-s".into()))
        .await
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
    e.setattr(&ROOT, id, "phys_mcap", Value::Str("64M".into()))
        .await
        .unwrap();
    assert_eq!(
        e.getattr(&ROOT, id, "phys_mcap").unwrap(),
        Value::Int(64 << 20)
    );
    let err = e
        .setattr(&ROOT, ZoneId::GLOBAL, "bootargs", Value::Str("x".into()))
        .await
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::EINVAL);
    let err = e
        .setattr(&ROOT, id, "uniqid", Value::Int(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }));
}

#[tokio::test]
async fn the_global_zone_cannot_be_booted_halted_or_destroyed() {
    let (e, _) = engine();
    for r in [
        e.boot(&ROOT, ZoneId::GLOBAL).await.map(|_| ()),
        e.halt(&ROOT, ZoneId::GLOBAL).await,
        e.shutdown(&ROOT, ZoneId::GLOBAL).await,
        e.destroy(&ROOT, ZoneId::GLOBAL).await,
    ] {
        assert!(matches!(r, Err(Error::Global(_))), "{r:?}");
    }
    assert_eq!(status(&e, ZoneId::GLOBAL), Some(Status::Running));
}

#[tokio::test]
async fn a_second_shutdown_waits_for_the_first_and_succeeds() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let (a, b) = tokio::join!(e.shutdown(&ROOT, id), e.shutdown(&ROOT, id));
    a.unwrap();
    b.unwrap();
    assert_eq!(status(&e, id), Some(Status::Down));
}

#[tokio::test]
async fn a_failed_ready_leaves_no_zone_and_unwinds_subsystems() {
    let (e, rt) = engine();
    let log = Arc::new(StdMutex::new(Vec::new()));
    for name in ["first", "second"] {
        e.register(Arc::new(Recorder {
            name,
            log: log.clone(),
            fail_create_of: None,
        }));
    }
    rt.fail_ready_of("bad");
    let err = e.create(&ROOT, args(&["name=bad"])).await.unwrap_err();
    assert!(matches!(err, Error::Runtime { .. }));
    assert!(e.lookup(&ROOT, "bad").is_err());
    assert_eq!(e.snapshot().zones.len(), 1);
    assert_eq!(
        *log.lock().unwrap(),
        [
            "create first bad",
            "create second bad",
            "destroy second bad",
            "destroy first bad"
        ]
    );
}

#[tokio::test]
async fn a_failing_subsystem_create_unwinds_those_already_run() {
    let (e, _) = engine();
    let log = Arc::new(StdMutex::new(Vec::new()));
    e.register(Arc::new(Recorder {
        name: "first",
        log: log.clone(),
        fail_create_of: None,
    }));
    e.register(Arc::new(Recorder {
        name: "second",
        log: log.clone(),
        fail_create_of: Some("z"),
    }));
    e.register(Arc::new(Recorder {
        name: "third",
        log: log.clone(),
        fail_create_of: None,
    }));
    assert!(e.create(&ROOT, args(&["name=z"])).await.is_err());
    assert_eq!(
        *log.lock().unwrap(),
        ["create first z", "create second z", "destroy first z"]
    );
    assert!(e.lookup(&ROOT, "z").is_err());
    log.lock().unwrap().clear();
    let id = running(&e, "ok").await;
    e.halt(&ROOT, id).await.unwrap();
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "create first ok",
            "create second ok",
            "create third ok",
            "shutdown third ok",
            "shutdown second ok",
            "shutdown first ok",
            "destroy third ok",
            "destroy second ok",
            "destroy first ok"
        ]
    );
}

// ---- waits ---------------------------------------------------------------------------

#[tokio::test]
async fn a_wait_wakes_on_the_asked_status() {
    let (e, _) = engine();
    let id = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    let e2 = e.clone();
    let waiter = tokio::spawn(async move { e2.wait_status(id, Status::Running, None).await });
    tokio::task::yield_now().await;
    e.boot(&ROOT, id).await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), Status::Running);
}

#[tokio::test]
async fn a_wait_for_an_earlier_status_returns_at_once() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let s = e
        .wait_status(id, Status::Ready, Some(Duration::from_millis(1)))
        .await
        .unwrap();
    assert_eq!(s, Status::Running);
}

#[tokio::test]
async fn a_wait_wakes_when_the_zone_is_removed() {
    let (e, _) = engine();
    let id = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    let e2 = e.clone();
    let early = tokio::spawn(async move { e2.wait_status(id, Status::Running, None).await });
    let e3 = e.clone();
    let late = tokio::spawn(async move { e3.wait_status(id, Status::Dead, None).await });
    tokio::task::yield_now().await;
    e.halt(&ROOT, id).await.unwrap();
    // Halted from ready, the zone never runs: the first wait ends on a later
    // status; the second when the zone leaves the registry.
    assert!(early.await.unwrap().unwrap() > Status::Running);
    assert_eq!(late.await.unwrap().unwrap(), Status::Dead);
    assert!(
        e.wait_status(id, Status::Running, None).await.is_err(),
        "gone"
    );
}

#[tokio::test]
async fn a_wait_times_out_with_etimedout() {
    let (e, _) = engine();
    let id = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    let err = e
        .wait_status(id, Status::Running, Some(Duration::from_millis(20)))
        .await
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ETIMEDOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_wait_wakes_on_a_later_status() {
    let (e, _) = engine();
    let id = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    let e2 = e.clone();
    let waiter = std::thread::spawn(move || {
        e2.wait_status_blocking(id, Status::Booting, Some(Duration::from_secs(5)))
    });
    std::thread::sleep(Duration::from_millis(20));
    e.boot(&ROOT, id).await.unwrap();
    let s = waiter.join().unwrap().unwrap();
    assert!(s >= Status::Booting);
    let err = e
        .wait_status_blocking(id, Status::Dead, Some(Duration::from_millis(20)))
        .unwrap_err();
    assert_eq!(err.errno(), crate::errno::ETIMEDOUT);
}

// ---- references -------------------------------------------------------------------------

#[tokio::test]
async fn destroy_waits_for_a_hold_to_be_released() {
    let (e, _) = engine_with(EngineConfig {
        destroy_timeout: Duration::from_secs(10),
        ..Default::default()
    });
    let id = running(&e, "a").await;
    let hold = e.hold(id, HoldKind::Subsys(Subsys::Mntfs)).unwrap();
    let e2 = e.clone();
    let halting = tokio::spawn(async move { e2.halt(&ROOT, id).await });
    e.wait_status(id, Status::Dying, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(!halting.is_finished());
    drop(hold);
    halting.await.unwrap().unwrap();
    assert!(e.snapshot().zone(id).is_none());
}

#[derive(Clone, Default)]
struct LogBuf(Arc<StdMutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn destroy_times_out_with_ebusy_and_logs_every_count() {
    let logs = LogBuf::default();
    let l2 = logs.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || l2.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(sub);
    let (e, rt) = engine();
    let id = running(&e, "a").await;
    let hold = e.hold(id, HoldKind::ZoneRef).unwrap();
    let mut kernel = KernelRefs::default();
    kernel.subsys[Subsys::Vfs as usize] = 3;
    kernel.cred = 1;
    rt.set_refs(id, kernel);
    let err = e.halt(&ROOT, id).await.unwrap_err();
    assert_eq!(err.errno(), crate::errno::EBUSY);
    assert!(
        matches!(&err, Error::Busy { counts, .. } if counts == "zone_ref=1 cred_ref=1 VFS=3"),
        "{err}"
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for what in [
        "zone_ref still holds",
        "cred_ref still holds",
        "VFS still holds",
    ] {
        assert!(text.contains(what), "{what} not logged in:\n{text}");
    }
    // Still dying; a later destroy retries and succeeds once drained.
    assert_eq!(status(&e, id), Some(Status::Dying));
    assert!(e.lookup(&ROOT, "a").is_err());
    drop(hold);
    rt.set_refs(id, KernelRefs::default());
    e.destroy(&ROOT, id).await.unwrap();
    assert!(
        e.jail_get(&ROOT, &JailKey::Jid(id), JailFlags::DYING)
            .is_err()
    );
}

#[tokio::test]
async fn a_dying_zones_id_is_not_reused_until_it_is_dead() {
    let (e, _) = engine();
    let a = running(&e, "a").await;
    let hold = e.hold(a, HoldKind::ZoneRef).unwrap();
    assert!(e.halt(&ROOT, a).await.is_err());
    let b = e.create(&ROOT, args(&["name=b"])).await.unwrap();
    assert_ne!(a, b);
    drop(hold);
    e.destroy(&ROOT, a).await.unwrap();
    let c = e.create(&ROOT, args(&["name=c"])).await.unwrap();
    assert_eq!(c, a, "the lowest free id, now that a is dead");
}

#[tokio::test]
async fn ids_are_lowest_free_and_uniqids_never_repeat() {
    let (e, _) = engine();
    let a = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    let b = e.create(&ROOT, args(&["name=b"])).await.unwrap();
    let c = e.create(&ROOT, args(&["name=c", "jid=10"])).await.unwrap();
    assert_eq!((a, b, c), (ZoneId(1), ZoneId(2), ZoneId(10)));
    let ua = e.snapshot().zone(a).unwrap().uniqid;
    e.halt(&ROOT, a).await.unwrap();
    let again = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    assert_eq!(again, ZoneId(1));
    let ua2 = e.snapshot().zone(again).unwrap().uniqid;
    assert!(ua2 > ua);
    // A zone created without a name is named after its id.
    let unnamed = e.create(&ROOT, Params::new()).await.unwrap();
    assert_eq!(e.snapshot().zone(unnamed).unwrap().name.as_str(), "3");
    assert_eq!(e.next_uniqid(), ua2 + 2);
}

#[tokio::test]
async fn reboot_keeps_the_id() {
    let (e, _) = engine();
    let id = running(&e, "a").await;
    let u = e.snapshot().zone(id).unwrap().uniqid;
    let booted = e.reboot(&ROOT, id).await.unwrap();
    assert_eq!(booted.id, id);
    let z = e.snapshot().zone(id).unwrap().clone();
    assert_eq!(z.status, Status::Running);
    assert!(z.uniqid > u, "a reboot is a new life of the zone");
}

#[tokio::test]
async fn getattr_answers_every_zone_attribute() {
    let (e, _) = engine();
    let id = e
        .create(
            &ROOT,
            args(&[
                "name=a",
                "path=/srv/a",
                "brand=sparse",
                "bootargs=-v",
                "host.hostid=7",
            ]),
        )
        .await
        .unwrap();
    let get = |a: &str| e.getattr(&ROOT, id, a).unwrap();
    assert_eq!(get("name"), Value::Str("a".into()));
    assert_eq!(get("root"), Value::Str("/srv/a".into()));
    assert_eq!(get("status"), Value::Str("ready".into()));
    assert_eq!(get("brand"), Value::Str("sparse".into()));
    assert_eq!(get("bootargs"), Value::Str("-v".into()));
    assert_eq!(get("hostid"), Value::Int(7));
    assert_eq!(get("network"), Value::Str("shared".into()));
    assert_eq!(get("initnorestart"), Value::Bool(false));
    assert_eq!(get("flags"), Value::Int(0));
    for a in [
        "privset",
        "uniqid",
        "initpid",
        "initname",
        "sched_class",
        "fs_allowed",
        "secflags",
        "phys_mcap",
    ] {
        assert!(e.getattr(&ROOT, id, a).is_ok(), "{a}");
    }
    assert_eq!(
        e.getattr(&ROOT, ZoneId(99), "name").unwrap_err().errno(),
        crate::errno::EINVAL
    );
}

#[tokio::test]
async fn a_caller_in_a_zone_lists_only_its_own_zone() {
    let (e, _) = engine();
    let a = e.create(&ROOT, args(&["name=a"])).await.unwrap();
    e.create(&ROOT, args(&["name=b"])).await.unwrap();
    assert_eq!(e.list(&ROOT).len(), 3);
    assert_eq!(e.list(&Caller { uid: 0, zone: a }), vec![a]);
    assert!(e.lookup(&Caller { uid: 0, zone: a }, "b").is_err());
}

// ---- durable state ----------------------------------------------------------------------------

#[tokio::test]
async fn a_new_engine_readopts_every_zone_with_the_same_identity() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Arc::new(NullRuntime::new());
    let store = crate::state::Store::open(dir.path()).unwrap();
    let e = Engine::with_store(rt.clone(), EngineConfig::default(), store);
    let a = running(&e, "a").await;
    let b = running(&e, "b").await;
    let c = e.create(&ROOT, args(&["name=c", "persist"])).await.unwrap();
    let before: Vec<_> = e
        .snapshot()
        .zones
        .iter()
        .map(|z| (z.id, z.name.clone(), z.uniqid, z.status, z.init_pid))
        .collect();
    // The engine goes away (as after kill -9: nothing is shut down).
    drop(e);
    rt.mark_gone(b);
    let store = crate::state::Store::open(dir.path()).expect("the lock died with the engine");
    let e = Engine::with_store(rt.clone(), EngineConfig::default(), store);
    let restored = e.restore().await.unwrap();
    assert_eq!(restored.adopted, vec![a, c]);
    assert_eq!(restored.finished, vec![b]);
    let after: Vec<_> = e
        .snapshot()
        .zones
        .iter()
        .map(|z| (z.id, z.name.clone(), z.uniqid, z.status, z.init_pid))
        .collect();
    let max = before.iter().map(|z| z.2).max().unwrap();
    let expect: Vec<_> = before.into_iter().filter(|z| z.0 != b).collect();
    assert_eq!(after, expect);
    // uniqids keep growing across the restart.
    let d = e.create(&ROOT, args(&["name=d"])).await.unwrap();
    assert_eq!(
        e.snapshot().zone(d).unwrap().uniqid,
        max + 1,
        "no uniqid is reused"
    );
    // The finished zone left no record; halting the rest leaves none at all.
    for id in [a, c, d] {
        e.halt(&ROOT, id).await.unwrap();
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("zones")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn a_dying_zone_that_cannot_be_finished_does_not_keep_the_next_engine_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Arc::new(NullRuntime::new());
    let config = EngineConfig {
        destroy_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let store = crate::state::Store::open(dir.path()).unwrap();
    let e = Engine::with_store(rt.clone(), config.clone(), store);
    let a = running(&e, "a").await;
    let b = running(&e, "b").await;
    // Something holds a in the kernel: its halt fails and it stays dying.
    let mut held = KernelRefs::default();
    held.subsys[Subsys::Ipc as usize] = 1;
    rt.set_refs(a, held);
    assert!(matches!(e.halt(&ROOT, a).await, Err(Error::Busy { .. })));
    drop(e);
    // The next engine (each zoneadm without a daemon is one) starts all
    // the same, keeps a dying, and adopts b.
    let store = crate::state::Store::open(dir.path()).unwrap();
    let e = Engine::with_store(rt.clone(), config, store);
    let restored = e.restore().await.expect("restore despite a stuck zone");
    assert_eq!(restored.adopted, vec![a, b]);
    assert_eq!(e.snapshot().zone(a).unwrap().status, Status::Dying);
    assert_eq!(e.snapshot().zone(b).unwrap().status, Status::Running);
    // Once nothing holds it, a later halt finishes it.
    rt.set_refs(a, KernelRefs::default());
    e.halt(&ROOT, a).await.unwrap();
    e.halt(&ROOT, b).await.unwrap();
    assert!(e.snapshot().zone(a).is_none());
}

// ---- concurrency ------------------------------------------------------------------------------

/// Many tasks create, hold, boot, shut down, halt and destroy a small set
/// of zones at once. Whatever the interleaving: no deadlock (the whole run
/// has a deadline), no lost wakeup (every waiter returns), and at the end
/// every zone is dead and every hold released.
#[test]
fn concurrent_lifecycles_end_with_every_zone_dead_and_released() {
    for seed in 0..4u64 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (e, _) = engine_with(EngineConfig {
                destroy_timeout: Duration::from_millis(200),
                ..Default::default()
            });
            let mut tasks = Vec::new();
            for t in 0..8u64 {
                let e = e.clone();
                tasks.push(tokio::spawn(async move {
                    let mut x = seed * 1000 + t * 7919 + 1;
                    let mut waiters = Vec::new();
                    for _ in 0..150 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let name = format!("z{}", x % 6);
                        let id = e.lookup(&ROOT, &name).ok();
                        match (x >> 8) % 8 {
                            0 | 1 => {
                                let _ = e
                                    .create(&ROOT, args(&[&format!("name={name}"), "persist"]))
                                    .await;
                            }
                            2 => {
                                if let Some(id) = id {
                                    let _ = e.boot(&ROOT, id).await;
                                }
                            }
                            3 => {
                                if let Some(id) = id {
                                    let _ = e.shutdown(&ROOT, id).await;
                                }
                            }
                            4 => {
                                if let Some(id) = id {
                                    let _ = e.halt(&ROOT, id).await;
                                }
                            }
                            5 => {
                                if let Some(id) = id {
                                    let _ = e.destroy(&ROOT, id).await;
                                }
                            }
                            6 => {
                                if let Some(id) = id
                                    && let Ok(h) = e.hold(id, HoldKind::ZoneRef)
                                {
                                    tokio::time::sleep(Duration::from_millis(x % 5)).await;
                                    drop(h);
                                }
                            }
                            _ => {
                                if let Some(id) = id {
                                    let e = e.clone();
                                    waiters.push(tokio::spawn(async move {
                                        e.wait_status(id, Status::Running, None).await
                                    }));
                                }
                            }
                        }
                    }
                    waiters
                }));
            }
            let run = async {
                let mut waiters = Vec::new();
                for t in tasks {
                    waiters.extend(t.await.unwrap());
                }
                // Halt whatever is left; then every waiter must have woken.
                for id in e.list(&ROOT) {
                    if !id.is_global() {
                        e.halt(&ROOT, id).await.unwrap();
                    }
                }
                // Zones stuck dying from a timed-out destroy: destroy again.
                let dying: Vec<ZoneId> = (1..=ZoneId::MAX.min(64))
                    .map(ZoneId)
                    .filter(|id| {
                        e.jail_get(&ROOT, &JailKey::Jid(*id), JailFlags::DYING)
                            .is_ok()
                    })
                    .collect();
                for id in dying {
                    e.destroy(&ROOT, id).await.unwrap();
                }
                for w in waiters {
                    let s = w.await.unwrap();
                    assert!(matches!(s, Ok(_) | Err(Error::NoSuchZone(_))), "{s:?}");
                }
            };
            tokio::time::timeout(Duration::from_secs(60), run)
                .await
                .expect("deadlock: the run did not finish");
            let snap = e.snapshot();
            assert_eq!(snap.zones.len(), 1, "seed {seed}: {:?}", snap.zones);
            assert_eq!(snap.zones[0].refs, Default::default());
        });
    }
}

// ---- the configured-zone lifecycle -------------------------------------------------------------

fn conf(text: &str) -> crate::jailconf::Config {
    crate::jailconf::Config::parse_str(text, "t.conf").unwrap()
}

#[tokio::test]
async fn create_refuses_a_parameter_name_in_no_table() {
    let (e, _) = engine();
    let mut p = args(&["name=a"]);
    p.0.insert("zone.max-processs".into(), Value::Int(5));
    let err = e.create(&ROOT, p).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "a: unknown parameter: zone.max-processs",
        "{err:?}"
    );
    assert_eq!(err.errno(), crate::errno::EINVAL);
    assert!(e.lookup(&ROOT, "a").is_err(), "nothing was made");
}

#[tokio::test]
async fn boot_from_a_block_with_a_misspelled_rctl_names_file_line_zone_and_parameter() {
    let (e, _) = engine();
    let c = conf("x {\n  path = \"/\";\n  zone.max-processs = 5;\n}\n");
    let err = e
        .boot_configured(&ROOT, &c, "x", &BootFrom::BOOT)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "t.conf line 3: x: unknown parameter: zone.max-processs"
    );
    assert!(matches!(err, Error::Conf(_)));
    assert!(e.lookup(&ROOT, "x").is_err(), "nothing was made");
}

#[tokio::test]
async fn configured_operations_answer_for_unknown_uninstalled_and_running_zones() {
    let (e, _) = engine();
    let c = conf("r { path = \"/\"; }\nbare { path = \"/nonexistent/zones-test/bare\"; }\n");
    assert_eq!(
        e.boot_configured(&ROOT, &c, "ghost", &BootFrom::BOOT).await,
        Err(Error::NotConfigured("ghost".into()))
    );
    assert_eq!(
        e.boot_configured(&ROOT, &c, "bare", &BootFrom::BOOT).await,
        Err(Error::NotInstalled {
            zone: "bare".into(),
            op: "boot".into(),
            root: "/nonexistent/zones-test/bare".into(),
        })
    );
    let id = e
        .boot_configured(&ROOT, &c, "r", &BootFrom::BOOT)
        .await
        .unwrap();
    assert_eq!(status(&e, id), Some(Status::Running));
    assert_eq!(
        e.snapshot().zone(id).unwrap().params.bool("persist"),
        Some(true)
    );
    assert_eq!(
        e.uninstall(&ROOT, &c, "r").await,
        Err(Error::BadState {
            zone: "r".into(),
            op: "uninstall".into(),
            status: "running".into(),
        })
    );
    assert_eq!(
        e.halt_zone(&ROOT, "bare").await,
        Err(Error::NotLive("bare".into()))
    );
    e.shutdown_zone(&ROOT, "r").await.unwrap();
    assert!(e.lookup(&ROOT, "r").is_err());
    assert_eq!(
        e.boot_configured(&Caller::user(1000), &c, "r", &BootFrom::BOOT)
            .await,
        Err(Error::NotRoot)
    );
}

#[tokio::test]
async fn errors_cross_the_wire_whole() {
    for err in [
        Error::NotConfigured("x".into()),
        Error::Unchangeable {
            zone: "a".into(),
            param: "path".into(),
        },
        Error::BadState {
            zone: "a".into(),
            op: "boot".into(),
            status: "running".into(),
        },
        Error::Conf(
            conf("x { zone.max-processs = 5; }\n")
                .get("x")
                .unwrap()
                .check_known()
                .unwrap_err(),
        ),
    ] {
        let json = serde_json::to_string(&crate::api::WireError::from(&err)).unwrap();
        let back: crate::api::WireError = serde_json::from_str(&json).unwrap();
        assert_eq!(back.error, err, "{json}");
        assert_eq!(back.errno, err.errno());
        assert_eq!(back.message, err.to_string());
    }
}

/// The record of a zone as on disk now (the store's file, read directly:
/// the engine holds the directory's lock).
fn record_on_disk(dir: &std::path::Path, uniqid: u64) -> Option<crate::state::ZoneRecord> {
    let text = std::fs::read_to_string(dir.join("zones").join(format!("{uniqid}.json"))).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn a_cycle_writes_only_the_statuses_a_restart_acts_on() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Arc::new(NullRuntime::new());
    let store = crate::state::Store::open(dir.path()).unwrap();
    let e = Engine::with_store(rt.clone(), EngineConfig::default(), store);
    // Init not restarted: a restart finishes the zone when nothing runs
    // whether it reads booting or running, so booting (with the boot
    // time) stays its record.
    let w = e
        .create(&ROOT, args(&["name=w", "initnorestart"]))
        .await
        .unwrap();
    e.boot(&ROOT, w).await.unwrap();
    let snap = e.snapshot();
    let z = snap.zone(w).expect("the snapshot is built when asked for");
    assert_eq!(z.status, Status::Running);
    let rec = record_on_disk(dir.path(), z.uniqid).unwrap();
    assert_eq!(rec.status, Status::Booting);
    assert_ne!(rec.boot_time, 0);
    // A persistent zone (init restarted): running is written.
    let p = running(&e, "p").await;
    let pu = e.snapshot().zone(p).unwrap().uniqid;
    assert_eq!(
        record_on_disk(dir.path(), pu).unwrap().status,
        Status::Running
    );
    // On the way down the first step alone is written.
    e.shutdown(&ROOT, p).await.unwrap();
    assert_eq!(status(&e, p), Some(Status::Down));
    assert_eq!(
        record_on_disk(dir.path(), pu).unwrap().status,
        Status::ShuttingDown
    );
    e.destroy(&ROOT, p).await.unwrap();
    assert!(record_on_disk(dir.path(), pu).is_none());
    // And a restart finds the zone recorded booting running (its init
    // runs: the null runtime's adopt says so).
    drop(e);
    let store = crate::state::Store::open(dir.path()).unwrap();
    let e = Engine::with_store(rt.clone(), EngineConfig::default(), store);
    let restored = e.restore().await.unwrap();
    assert_eq!(restored.adopted, vec![w]);
    assert_eq!(status(&e, w), Some(Status::Running));
    assert_eq!(
        record_on_disk(dir.path(), z.uniqid).unwrap().boot_time,
        rec.boot_time
    );
}

#[tokio::test]
async fn a_subscriber_sees_what_changed_before_it_subscribed() {
    let (e, _rt) = engine();
    let a = e.create(&ROOT, args(&["name=a", "persist"])).await.unwrap();
    let rx = e.subscribe();
    assert_eq!(rx.borrow().zone(a).map(|z| z.status), Some(Status::Ready));
    e.boot(&ROOT, a).await.unwrap();
    assert_eq!(rx.borrow().zone(a).map(|z| z.status), Some(Status::Running));
}
