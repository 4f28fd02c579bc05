//! The tenant's tree through the API, and an external check: using only public routes and an
//! independent RFC 6962 implementation (the `ct-merkle` crate, with its own SHA-256), a client
//! verifies signed checkpoints, the inclusion of random events and the consistency of two
//! checkpoints.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use ct_merkle::{ConsistencyProof, HashableLeaf, InclusionProof, RootHash};
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2_oracle::Sha256;

use crate::helpers::*;

/// Leaf data as the oracle hashes it: `SHA-256(0x00 || bytes)`.
struct Bytes(Vec<u8>);

impl HashableLeaf for Bytes {
    fn hash<H: ct_merkle::digest::Update>(&self, hasher: &mut H) {
        hasher.update(&self.0);
    }
}

pub fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

fn digest(bytes: &[u8]) -> ct_merkle::digest::Output<Sha256> {
    ct_merkle::digest::Output::<Sha256>::try_from(bytes).expect("32 bytes")
}

pub async fn wait_for_checkpoint(s: &TestServer, tenant: &str, size: u64) -> Value {
    for _ in 0..40 {
        let (st, cp) = s.get(&format!("/v1/tenants/{tenant}/tree/checkpoint"), OPERATOR).await;
        if st == StatusCode::OK && cp["tree_size"] == size {
            return cp;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no checkpoint of size {size} within 4 s");
}

/// Verifies a signed note with the public key, independently of Trail's code.
fn verify_note(note: &str, key: &Value) -> (u64, Vec<u8>) {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let (body, sig_line) = note.split_once("\n\n").unwrap();
    let public = VerifyingKey::from_bytes(&b64(&key["public_key"]).try_into().unwrap()).unwrap();
    let line = sig_line.trim_end().strip_prefix("\u{2014} ").unwrap();
    let (name, sig) = line.rsplit_once(' ').unwrap();
    assert_eq!(name, key["name"].as_str().unwrap());
    let blob = STANDARD.decode(sig).unwrap();
    public
        .verify(format!("{body}\n").as_bytes(), &Signature::from_slice(&blob[4..]).unwrap())
        .expect("a valid signature");
    let mut lines = body.lines();
    assert_eq!(lines.next().unwrap(), "trail/test/acme");
    (lines.next().unwrap().parse().unwrap(), STANDARD.decode(lines.next().unwrap()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_client_verifies_inclusion_and_consistency() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let reader = s.key("acme", &["read"]).await;
    let batch = |from: usize, n: usize| -> Value {
        (from..from + n)
            .map(|i| json!({"action": "document.signed", "actor": {"name": format!("Person {i}"), "email": format!("p{i}@x.example")},
                             "description": format!("signed contract {i}"), "context": {"ip": "203.0.113.5"}}))
            .collect::<Vec<_>>()
            .into()
    };
    // Event 1 is the reader key's creation (trail.key.created).
    assert_eq!(s.ingest("acme", batch(0, 700)).await["tree_size"], 701);
    let key = s.client.get(s.url("/v1/keys/public")).send().await.unwrap().json::<Value>().await.unwrap();
    let cp1 = wait_for_checkpoint(&s, "acme", 701).await;
    let (size1, root1) = verify_note(cp1["note"].as_str().unwrap(), &key);
    assert_eq!((size1, root1.clone()), (701, b64(&cp1["root_hash"])));
    s.ingest("acme", batch(700, 333)).await;
    let cp2 = wait_for_checkpoint(&s, "acme", 1034).await;
    let (size2, root2) = verify_note(cp2["note"].as_str().unwrap(), &key);

    let mut rng = StdRng::seed_from_u64(6962);
    for _ in 0..25 {
        let seq = rng.random_range(1..=size2);
        let (st, proof) = s.get(&format!("/v1/tenants/acme/events/{seq}/proof"), &reader).await;
        assert_eq!(st, StatusCode::OK, "{proof}");
        assert_eq!(proof["tree_size"], size2);
        assert_eq!(proof["checkpoint"], cp2["note"], "proofs default to the latest signed checkpoint");
        let leaf = s
            .client
            .get(s.url(&format!("/v1/tenants/acme/events/{seq}/leaf")))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        let leaf = leaf.bytes().await.unwrap().to_vec();
        let text = String::from_utf8(leaf.clone()).unwrap();
        assert!(!text.contains("Person") && !text.contains("p1@") && !text.contains("203.0.113"), "{text}");
        let proof_bytes: Vec<u8> = proof["proof"].as_array().unwrap().iter().flat_map(b64).collect();
        let root = RootHash::<Sha256>::new(digest(&root2), size2);
        root.verify_inclusion(&Bytes(leaf.clone()), seq - 1, &InclusionProof::from_bytes(proof_bytes.clone()))
            .expect("the oracle verifies the inclusion");
        // Against the first checkpoint too, when the event is in it.
        if seq <= size1 {
            let (_, p1) = s.get(&format!("/v1/tenants/acme/events/{seq}/proof?tree_size={size1}"), &reader).await;
            let bytes: Vec<u8> = p1["proof"].as_array().unwrap().iter().flat_map(b64).collect();
            RootHash::<Sha256>::new(digest(&root1), size1)
                .verify_inclusion(&Bytes(leaf.clone()), seq - 1, &InclusionProof::from_bytes(bytes))
                .expect("included in the older tree");
        }
        // A changed leaf does not verify.
        let mut forged = leaf;
        forged[10] ^= 1;
        assert!(root.verify_inclusion(&Bytes(forged), seq - 1, &InclusionProof::from_bytes(proof_bytes)).is_err());
    }
    let (st, cons) = s.get(&format!("/v1/tenants/acme/tree/consistency?from={size1}&to={size2}"), &reader).await;
    assert_eq!(st, StatusCode::OK, "{cons}");
    let bytes: Vec<u8> = cons["proof"].as_array().unwrap().iter().flat_map(b64).collect();
    RootHash::<Sha256>::new(digest(&root2), size2)
        .verify_consistency(
            &RootHash::<Sha256>::new(digest(&root1), size1),
            &ConsistencyProof::try_from_bytes(bytes.clone()).unwrap(),
        )
        .expect("the oracle verifies consistency");
    let mut wrong = root1.clone();
    wrong[0] ^= 1;
    assert!(
        RootHash::<Sha256>::new(digest(&root2), size2)
            .verify_consistency(
                &RootHash::<Sha256>::new(digest(&wrong), size1),
                &ConsistencyProof::try_from_bytes(bytes).unwrap()
            )
            .is_err()
    );
}

#[tokio::test]
async fn events_show_their_leaf_and_bad_requests_are_refused() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.tenant("beta").await;
    let b = s.ingest("acme", json!([{"action": "a.b"}, {"action": "c.d"}])).await;
    assert_eq!(b["tree_size"], 2);
    let (_, e) = s.get("/v1/tenants/acme/events/2", OPERATOR).await;
    let leaf = s
        .client
        .get(s.url("/v1/tenants/acme/events/2/leaf"))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(b64(&e["leaf_hash"]), trail_core::merkle::leaf_hash(&leaf).to_vec());
    assert_eq!(e["seq"], 2, "the event's own fields are still there");
    let bad = |got: (StatusCode, Value), field: &str| {
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_parameter", Some(field))
    };
    bad(s.get("/v1/tenants/acme/events/1/proof?tree_size=3", OPERATOR).await, "tree_size");
    bad(s.get("/v1/tenants/acme/events/1/proof?tree_size=0", OPERATOR).await, "tree_size");
    bad(s.get("/v1/tenants/acme/events/x/proof", OPERATOR).await, "seq");
    bad(s.get("/v1/tenants/acme/tree/consistency", OPERATOR).await, "from");
    bad(s.get("/v1/tenants/acme/tree/consistency?from=3&to=2", OPERATOR).await, "from");
    assert_error(
        &s.get("/v1/tenants/acme/events/3/proof?tree_size=2", OPERATOR).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    assert_error(&s.get("/v1/tenants/beta/tree/checkpoint", OPERATOR).await, StatusCode::NOT_FOUND, "not_found", None);
    // Another tenant's key gets 404 here as everywhere.
    let beta = s.key("beta", &["read"]).await;
    assert_error(&s.get("/v1/tenants/acme/events/1/proof", &beta).await, StatusCode::NOT_FOUND, "not_found", None);
    assert_error(&s.get("/v1/tenants/acme/tree/checkpoint", &beta).await, StatusCode::NOT_FOUND, "not_found", None);
}
