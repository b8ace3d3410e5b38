//! The daemon's side of the API: one task per connection, one task per
//! call (so a long halt does not hold up a snapshot), one writer task per
//! connection that sends replies and pushed snapshots in order.

use super::{
    Answer, Call, Frame, Request, VERSION, WireError, WireResult, read_frame, write_frame,
};
use crate::engine::{Caller, Engine, HoldKind};
use crate::error::Error;
use crate::snapshot::Snapshot;
use crate::zone::ZoneId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The holds a connection took, by the client's token.
type Holds = Arc<Mutex<HashMap<u64, Vec<crate::engine::Hold>>>>;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

/// Serve the engine on a listening socket until the task is dropped.
pub async fn serve(engine: Engine, listener: UnixListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let engine = engine.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(engine, stream).await {
                        tracing::debug!("api connection ended: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::warn!("api accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The zone a host pid is in: the zone whose supervisor shares its pid
/// namespace, else the global zone.
pub fn zone_of_pid(snap: &Snapshot, pid: u32) -> ZoneId {
    let ns = |p: u32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(mine) = ns(pid) else {
        return ZoneId::GLOBAL;
    };
    snap.zones
        .iter()
        .filter(|z| z.zsched_pid != 0)
        .find(|z| ns(z.zsched_pid).as_ref() == Some(&mine))
        .map_or(ZoneId::GLOBAL, |z| z.id)
}

async fn connection(engine: Engine, stream: UnixStream) -> std::io::Result<()> {
    let cred = stream.peer_cred()?;
    let caller = Caller {
        uid: cred.uid(),
        zone: cred.pid().map_or(ZoneId::GLOBAL, |p| {
            zone_of_pid(&engine.snapshot(), p as u32)
        }),
    };
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Frame>();
    let writer = tokio::spawn(async move {
        while let Some(f) = rx.recv().await {
            if write_frame(&mut wr, &f).await.is_err() {
                break;
            }
        }
    });
    let holds: Holds = Arc::new(Mutex::new(HashMap::new()));
    let mut hello = false;
    while let Some(call) = read_frame::<_, Call>(&mut rd).await? {
        if !hello {
            let result = match call.request {
                Request::Hello { version } if version == VERSION => {
                    hello = true;
                    WireResult::Ok(Answer::Hello {
                        version: VERSION,
                        engine: engine.snapshot().engine.clone(),
                    })
                }
                Request::Hello { version } => WireResult::Err(WireError {
                    errno: libc::EPROTO,
                    message: format!("protocol version {version} is not {VERSION}"),
                }),
                _ => WireResult::Err(WireError {
                    errno: libc::EPROTO,
                    message: "say hello first".into(),
                }),
            };
            let _ = tx.send(Frame::Reply {
                id: call.id,
                result,
            });
            continue;
        }
        if let Request::Subscribe = call.request {
            let mut snaps = engine.subscribe();
            let tx = tx.clone();
            let first = snaps.borrow_and_update().clone();
            let _ = tx.send(Frame::Reply {
                id: call.id,
                result: WireResult::Ok(Answer::Unit),
            });
            let _ = tx.send(Frame::Snapshot {
                snapshot: visible(&first, caller),
            });
            tokio::spawn(async move {
                while snaps.changed().await.is_ok() {
                    let s = snaps.borrow_and_update().clone();
                    if tx
                        .send(Frame::Snapshot {
                            snapshot: visible(&s, caller),
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            });
            continue;
        }
        // Holds and releases are applied in stream order, here, so a
        // release always finds the hold it names.
        match call.request {
            Request::Hold {
                id,
                uniqid,
                mntfs,
                token,
            } => {
                let r = hold(&engine, caller, id, uniqid, mntfs).map(|h| {
                    holds.lock().unwrap().insert(token, h);
                });
                if call.id != 0 {
                    let result = match r {
                        Ok(()) => WireResult::Ok(Answer::Unit),
                        Err(e) => WireResult::Err(WireError::from(&e)),
                    };
                    let _ = tx.send(Frame::Reply {
                        id: call.id,
                        result,
                    });
                }
                continue;
            }
            Request::Release { token } => {
                holds.lock().unwrap().remove(&token);
                continue;
            }
            _ => {}
        }
        let engine = engine.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let result = match handle(&engine, caller, call.request).await {
                Ok(a) => WireResult::Ok(a),
                Err(e) => WireResult::Err(WireError::from(&e)),
            };
            let _ = tx.send(Frame::Reply {
                id: call.id,
                result,
            });
        });
    }
    drop(tx);
    let _ = writer.await;
    Ok(())
}

/// What a caller may see of a snapshot: everything from the global zone,
/// only its own zone from inside one.
fn visible(s: &Arc<Snapshot>, caller: Caller) -> Arc<Snapshot> {
    if caller.zone.is_global() {
        return s.clone();
    }
    let mut own = (**s).clone();
    own.zones.retain(|z| z.id == caller.zone);
    own.configured.clear();
    Arc::new(own)
}

/// zone_ref (and MNTFS) on a zone, for a caller that may read it.
fn hold(
    engine: &Engine,
    caller: Caller,
    id: ZoneId,
    uniqid: Option<u64>,
    mntfs: bool,
) -> Result<Vec<crate::engine::Hold>, Error> {
    if !caller.zone.is_global() && caller.zone != id {
        return Err(Error::NoSuchZone(id.to_string()));
    }
    if let Some(u) = uniqid
        && engine.snapshot().zone(id).is_none_or(|z| z.uniqid != u)
    {
        return Err(Error::NoSuchZone(id.to_string()));
    }
    let mut v = vec![engine.hold(id, HoldKind::ZoneRef)?];
    if mntfs {
        v.push(engine.hold(id, HoldKind::Subsys(crate::snapshot::Subsys::Mntfs))?);
    }
    Ok(v)
}

async fn handle(engine: &Engine, caller: Caller, req: Request) -> Result<Answer, Error> {
    if req.is_control() && caller.uid != 0 {
        return Err(Error::NotRoot);
    }
    Ok(match req {
        Request::Hello { .. } | Request::Subscribe => Answer::Unit,
        Request::Snapshot => Answer::Snapshot {
            snapshot: visible(&engine.snapshot(), caller),
        },
        Request::List => Answer::Ids {
            ids: engine.list(&caller),
        },
        Request::Lookup { name } => Answer::Id {
            id: engine.lookup(&caller, &name)?,
        },
        Request::Create { params } => Answer::Id {
            id: engine.create(&caller, params).await?,
        },
        Request::Boot { id, init } => engine.boot_with(&caller, id, init).await?.into(),
        Request::Shutdown { id } => {
            engine.shutdown(&caller, id).await?;
            Answer::Unit
        }
        Request::Halt { id } => {
            engine.halt(&caller, id).await?;
            Answer::Unit
        }
        Request::Reboot { id } => engine.reboot(&caller, id).await?.into(),
        Request::Destroy { id } => {
            engine.destroy(&caller, id).await?;
            Answer::Unit
        }
        Request::Getattr { id, attr } => {
            let _hold = engine.hold(id, HoldKind::ZoneRef).ok();
            Answer::Value {
                value: engine.getattr(&caller, id, &attr)?,
            }
        }
        Request::Setattr { id, attr, value } => {
            engine.setattr(&caller, id, &attr, value).await?;
            Answer::Unit
        }
        Request::WaitStatus {
            id,
            status,
            timeout_ms,
        } => Answer::Status {
            status: engine
                .wait_status(id, status, timeout_ms.map(Duration::from_millis))
                .await?,
        },
        Request::JailSet { params, flags } => Answer::Id {
            id: engine
                .jail_set(&caller, params, super::flags(flags))
                .await?,
        },
        Request::JailGet { key, names, flags } => {
            let key = key.into();
            let (id, params) = if names.is_empty() {
                engine.jail_get(&caller, &key, super::flags(flags))?
            } else {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                engine.jail_get_params(&caller, &key, &names, super::flags(flags))?
            };
            Answer::Params { id, params }
        }
        Request::JailRemove { id } => {
            engine.jail_remove(&caller, id).await?;
            Answer::Unit
        }
        Request::JailAttach { id } => {
            let a = engine.jail_attach(&caller, id)?;
            Answer::Attach {
                id: a.id,
                name: a.name.to_string(),
                root: a.root,
                handle: a.handle,
                params: a.params,
            }
        }
        // Taken in stream order by the connection itself.
        Request::Hold { .. } | Request::Release { .. } => Answer::Unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Client, Zones};
    use crate::engine::{EngineConfig, params_from_args};
    use crate::runtime::NullRuntime;
    use crate::zone::Status;

    fn engine() -> Engine {
        Engine::new(Arc::new(NullRuntime::new()), EngineConfig::default())
    }

    #[tokio::test]
    async fn a_client_drives_the_daemon_and_sees_pushed_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("zoned.sock");
        let e = engine();
        let server = tokio::spawn(serve(e.clone(), UnixListener::bind(&sock).unwrap()));
        let z = Zones::Daemon(Arc::new(Client::connect(&sock).await.unwrap()));
        assert_eq!(z.engine_name(), "embedded");
        let Zones::Daemon(c) = &z else { unreachable!() };
        let mut snaps = c.subscribe().await.unwrap();
        let root = Caller::ROOT;
        let id = z
            .create(&root, params_from_args(&["name=web", "persist"]).unwrap())
            .await
            .unwrap();
        let b = z.boot(&root, id).await.unwrap();
        assert_eq!(b.id, id);
        assert_eq!(z.lookup(&root, "web").await.unwrap(), id);
        // The pushed snapshots reach the running zone.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let running = snaps
                .borrow_and_update()
                .as_ref()
                .and_then(|s| s.zone(id).map(|z| z.status == Status::Running))
                .unwrap_or(false);
            if running {
                break;
            }
            tokio::time::timeout_at(deadline, snaps.changed())
                .await
                .expect("no snapshot with the zone running")
                .unwrap();
        }
        // An error keeps its errno across the socket.
        let err = z.boot(&root, id).await.unwrap_err();
        assert_eq!(err.errno(), libc::EINVAL);
        assert!(err.to_string().contains("web"), "{err}");
        z.halt(&root, id).await.unwrap();
        assert!(z.lookup(&root, "web").await.is_err());
        server.abort();
    }

    #[tokio::test]
    async fn a_client_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("zoned.sock");
        let server = tokio::spawn(serve(engine(), UnixListener::bind(&sock).unwrap()));
        let mut s = UnixStream::connect(&sock).await.unwrap();
        crate::api::write_frame(
            &mut s,
            &Call {
                id: 1,
                request: Request::Hello { version: 99 },
            },
        )
        .await
        .unwrap();
        let f: Frame = crate::api::read_frame(&mut s).await.unwrap().unwrap();
        assert!(
            matches!(f, Frame::Reply { result: WireResult::Err(ref e), .. } if e.errno == libc::EPROTO)
        );
        server.abort();
    }

    #[tokio::test]
    async fn only_root_may_change_zones_and_everyone_may_read() {
        let e = engine();
        let user = Caller::user(1000);
        let params = params_from_args(&["name=a"]).unwrap();
        let err = handle(&e, user, Request::Create { params })
            .await
            .unwrap_err();
        assert_eq!(err.errno(), libc::EPERM);
        assert!(handle(&e, user, Request::Snapshot).await.is_ok());
        assert!(handle(&e, user, Request::List).await.is_ok());
    }

    #[tokio::test]
    async fn a_caller_inside_a_zone_sees_only_its_zone() {
        let e = engine();
        let root = Caller::ROOT;
        let a = e
            .create(&root, params_from_args(&["name=a"]).unwrap())
            .await
            .unwrap();
        e.create(&root, params_from_args(&["name=b"]).unwrap())
            .await
            .unwrap();
        let inside = Caller { uid: 0, zone: a };
        let s = visible(&e.snapshot(), inside);
        assert_eq!(s.zones.len(), 1);
        assert_eq!(s.zones[0].id, a);
        assert_eq!(visible(&e.snapshot(), root).zones.len(), 3);
    }
}
