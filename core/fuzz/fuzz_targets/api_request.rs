//! Fuzz the zoned socket API's decoding: any bytes a local user writes to
//! the socket must be taken apart into frames and requests (or refused)
//! without a panic, a hang or an allocation the frame length does not
//! bound; and the daemon must hold to its hello rule for whatever it
//! decoded.
//!
//! Three layers, all on the real code (api/mod.rs, api/server.rs):
//!
//! 1. The bytes as a stream of frames, read with the real `read_frame`
//!    as the daemon reads calls (`Call`) and as a client reads what the
//!    daemon sends (`Frame`, snapshots included). Frames that decode are
//!    re-encoded with `write_frame` and must decode again to the same
//!    request (the client and the daemon agree on every request either
//!    can express); a length over `MAX_FRAME` is refused before its
//!    body is read.
//! 2. The same bytes with the first byte as a mode: the rest split at
//!    0xff into JSON bodies that get their length prefix here, so the
//!    fuzzer reaches the JSON decoder without having to guess lengths.
//! 3. The calls that decoded, renumbered, sent to a real daemon
//!    (`serve` over a Unix socket, a NullRuntime engine with one zone
//!    booted), followed by the undecodable rest of the input. Requests
//!    that change state, and the two that never end (subscribe, an
//!    unbounded wait), are left out so every run meets the same
//!    daemon. The daemon must answer every call (release excepted)
//!    within seconds, the answer to each call before a successful hello
//!    must be that hello's or EPROTO, and then it must close the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use zones::api::{
    Answer, Call, Frame, MAX_FRAME, Request, VERSION, WireResult, read_frame, serve, write_frame,
};
use zones::engine::{Caller, Engine, EngineConfig, params_from_args};
use zones::runtime::NullRuntime;

/// Poll a future that never waits (its reader is a byte slice, its
/// writer a Vec) to completion.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a read from memory waited"),
    }
}

/// Decode a stream of `T`s; returns them and the offset of the frame
/// that did not decode (None when the stream ended cleanly).
fn decode<T: for<'de> serde::Deserialize<'de>>(data: &[u8]) -> (Vec<T>, Option<usize>) {
    let mut rd = data;
    let mut out = Vec::new();
    loop {
        let at = data.len() - rd.len();
        let len_field = rd
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        match now(read_frame::<_, T>(&mut rd)) {
            Ok(Some(v)) => out.push(v),
            Ok(None) => {
                // A clean end only where a frame would start.
                assert!(rd.len() < 4, "end of stream with {} bytes left", rd.len());
                return (out, None);
            }
            Err(e) => {
                // A frame over MAX_FRAME is refused from its length
                // alone: nothing of its body was consumed.
                if len_field.is_some_and(|l| l > MAX_FRAME) {
                    assert_eq!(data.len() - rd.len(), at + 4, "{e}");
                }
                return (out, Some(at));
            }
        }
    }
}

fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    now(write_frame(&mut buf, v)).expect("a decoded frame encodes");
    buf
}

/// Layer 1 checks on one stream; returns the calls and the offset of the
/// undecodable rest.
fn check_stream(data: &[u8]) -> (Vec<Call>, Option<usize>) {
    let (calls, rest) = decode::<Call>(data);
    for c in &calls {
        let bytes = encode(c);
        let (again, err) = decode::<Call>(&bytes);
        assert!(err.is_none() && again.len() == 1, "re-encoded call: {c:?}");
        let a = serde_json::to_value(c).unwrap();
        let b = serde_json::to_value(&again[0]).unwrap();
        assert_eq!(a, b, "a call changed across the wire");
        assert_eq!(c.request.is_control(), again[0].request.is_control());
    }
    // The same bytes as the client reads them.
    let (frames, _) = decode::<Frame>(data);
    for f in &frames {
        let _ = encode(f);
    }
    (calls, rest)
}

/// The daemon every run talks to.
struct Daemon {
    rt: tokio::runtime::Runtime,
    sock: PathBuf,
    engine_name: String,
}

fn daemon() -> &'static Daemon {
    static D: OnceLock<Daemon> = OnceLock::new();
    D.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let dir = std::env::temp_dir().join(format!("zones-fuzz-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a socket directory");
        let sock = dir.join("zoned.sock");
        let engine_name = rt.block_on(async {
            let e = Engine::new(Arc::new(NullRuntime::new()), EngineConfig::default());
            let root = Caller::ROOT;
            let id = e
                .create(&root, params_from_args(&["name=web", "persist"]).unwrap())
                .await
                .expect("create web");
            e.boot(&root, id).await.expect("boot web");
            e.create(&root, params_from_args(&["name=db"]).unwrap())
                .await
                .expect("create db");
            let l = UnixListener::bind(&sock).expect("bind the API socket");
            let name = e.snapshot().engine.clone();
            tokio::spawn(serve(e, l));
            name
        });
        Daemon {
            rt,
            sock,
            engine_name,
        }
    })
}

/// Requests sent to the shared daemon: those that change nothing and end.
fn sendable(r: &Request) -> bool {
    match r {
        Request::Subscribe => false,
        Request::WaitStatus { timeout_ms, .. } => timeout_ms.is_some_and(|t| t <= 50),
        Request::Hello { .. } | Request::Hold { .. } | Request::Release { .. } => true,
        r => !r.is_control(),
    }
}

/// Layer 3: the real daemon.
fn check_daemon(calls: &[Call], tail: &[u8]) {
    let d = daemon();
    let mut sent: Vec<(u64, Request)> = Vec::new();
    let mut bytes = Vec::new();
    for c in calls.iter().filter(|c| sendable(&c.request)) {
        let id = sent.len() as u64 + 1;
        let mut request = c.request.clone();
        // A hold's token is the client's: keep them distinct per call.
        if let Request::Hold { token, .. } = &mut request {
            *token = id;
        }
        bytes.extend(encode(&Call {
            id,
            request: request.clone(),
        }));
        sent.push((id, request));
    }
    bytes.extend_from_slice(tail);
    if bytes.is_empty() {
        return;
    }
    let all: Vec<(u64, WireResult)> = d.rt.block_on(async {
        let mut s = UnixStream::connect(&d.sock).await.expect("connect");
        let (mut rd, mut wr) = s.split();
        // The daemon reads while we write: a large tail cannot block us.
        let write = async {
            let _ = wr.write_all(&bytes).await;
            let _ = wr.shutdown().await;
        };
        let read = async {
            let mut all: Vec<(u64, WireResult)> = Vec::new();
            loop {
                match tokio::time::timeout(Duration::from_secs(10), read_frame::<_, Frame>(&mut rd))
                    .await
                {
                    Err(_) => panic!("the daemon neither answered nor closed within 10 s"),
                    Ok(Ok(Some(Frame::Reply { id, result }))) => all.push((id, result)),
                    Ok(Ok(Some(Frame::Snapshot { .. }))) => panic!("a snapshot nobody asked for"),
                    Ok(Ok(None)) => break,
                    // The daemon stopped at the bad frame and closed with
                    // the rest of it unread: the kernel resets the stream
                    // once the replies before it are read.
                    Ok(Err(e))
                        if e.kind() == std::io::ErrorKind::ConnectionReset && !tail.is_empty() =>
                    {
                        break;
                    }
                    Ok(Err(e)) => panic!("the daemon sent a frame we cannot read: {e}"),
                }
            }
            all
        };
        let ((), all) = tokio::join!(write, read);
        all
    });
    // One reply per call. Beyond them, a frame of the undecodable tail
    // whose id and op the daemon could read is answered EPROTO before it
    // closes; its id may repeat one of ours (replies after the hello come
    // in any order) or be new: at most one such extra reply.
    let mut replies: HashMap<u64, WireResult> = HashMap::new();
    let mut extra = 0;
    for (id, result) in all {
        let ours = sent.iter().any(|(s, _)| *s == id);
        let is_eproto = matches!(&result, WireResult::Err(e) if e.errno == libc::EPROTO);
        match replies.get(&id) {
            None if ours => {
                replies.insert(id, result);
            }
            Some(WireResult::Err(e)) if e.errno == libc::EPROTO && ours => {
                // The earlier EPROTO may have been the tail's: keep this one.
                extra += 1;
                replies.insert(id, result);
            }
            _ => {
                assert!(
                    is_eproto && !tail.is_empty(),
                    "a second or unasked reply to {id}: {result:?}"
                );
                extra += 1;
            }
        }
    }
    assert!(
        extra <= 1,
        "{extra} replies to calls never made or made once"
    );
    let mut hello = false;
    for (id, req) in &sent {
        let r = replies.get(id);
        if !hello {
            let r = r.unwrap_or_else(|| panic!("no reply to call {id} before hello: {req:?}"));
            match (req, r) {
                (
                    Request::Hello { version },
                    WireResult::Ok(Answer::Hello {
                        version: v, engine, ..
                    }),
                ) if *version == VERSION && *v == VERSION && *engine == d.engine_name => {
                    hello = true
                }
                (_, WireResult::Err(e)) if e.errno == libc::EPROTO => {
                    assert!(
                        !matches!(req, Request::Hello { version } if *version == VERSION),
                        "hello refused: {e:?}"
                    );
                }
                _ => panic!("call {id} before hello: {req:?} answered {r:?}"),
            }
            continue;
        }
        match req {
            // A release after the hello is never answered; an EPROTO with
            // its id is the tail's.
            Request::Release { .. } => assert!(
                r.is_none()
                    || matches!(r, Some(WireResult::Err(e)) if e.errno == libc::EPROTO && !tail.is_empty()),
                "a release was answered"
            ),
            _ => {
                let r = r.unwrap_or_else(|| panic!("no reply to call {id}: {req:?}"));
                if let WireResult::Err(e) = r {
                    assert!(e.errno > 0 && !e.message.is_empty(), "{req:?}: {e:?}");
                }
            }
        }
    }
    assert!(
        replies.keys().all(|id| sent.iter().any(|(s, _)| s == id)),
        "a reply to a call never made"
    );
}

fuzz_target!(|data: &[u8]| {
    let (calls, rest) = check_stream(data);
    let tail = rest.map_or(&[][..], |at| &data[at..]);
    // Layer 2: bodies split at 0xff, framed here.
    if let Some((&mode, body)) = data.split_first()
        && mode & 1 == 1
    {
        let mut framed = Vec::new();
        for b in body.split(|&c| c == 0xff) {
            framed.extend_from_slice(&(b.len() as u32).to_be_bytes());
            framed.extend_from_slice(b);
        }
        let (calls, rest) = check_stream(&framed);
        assert!(rest.is_none() || rest.is_some_and(|at| at < framed.len()));
        check_daemon(&calls, &[]);
    } else {
        check_daemon(&calls, tail);
    }
});
