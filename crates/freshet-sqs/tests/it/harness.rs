// SPDX-License-Identifier: Apache-2.0
//! A caller of the engine that keeps the messages log and journal in memory and follows the
//! engine's contract (append, then apply; persist entries; feed loads; move messages).

use std::collections::BTreeMap;

use freshet_sqs::Error;
use freshet_sqs::attributes::QueueAttributes;
use freshet_sqs::checkpoint::Checkpoint;
use freshet_sqs::engine::{
    Delivery, EngineConfig, MoveOut, Prepared, QueueEngine, QueueIdentity, ReceiveRequest,
    SendRequest, SendResult,
};
use freshet_sqs::journal::JournalEntry;
use freshet_sqs::message::{MessageMeta, StoredMessage};

pub const KEY: &[u8] = b"test-key";

pub fn identity(name: &str) -> QueueIdentity {
    QueueIdentity {
        name: name.to_owned(),
        arn: format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
        incarnation: 1,
    }
}

pub fn attrs(pairs: &[(&str, &str)]) -> QueueAttributes {
    let given: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    QueueAttributes::for_create(&given).expect("valid attributes")
}

/// One queue with its logs.
pub struct Sim {
    pub engine: QueueEngine,
    pub identity: QueueIdentity,
    pub attrs: QueueAttributes,
    pub config: EngineConfig,
    pub messages: Vec<Vec<u8>>,
    pub journal: Vec<Vec<u8>>,
    pub now: i64,
    next_id: u64,
}

impl Sim {
    pub fn new(name: &str, attrs: QueueAttributes, config: EngineConfig) -> Sim {
        let identity = identity(name);
        Sim {
            engine: QueueEngine::new(identity.clone(), attrs.clone(), config.clone(), KEY),
            identity,
            attrs,
            config,
            messages: Vec::new(),
            journal: Vec::new(),
            now: 1_700_000_000_000,
            next_id: 0,
        }
    }

    pub fn standard(name: &str) -> Sim {
        Sim::new(name, attrs(&[]), EngineConfig::default())
    }

    pub fn fifo(name: &str, extra: &[(&str, &str)]) -> Sim {
        let mut pairs = vec![("FifoQueue", "true")];
        pairs.extend_from_slice(extra);
        Sim::new(name, attrs(&pairs), EngineConfig::default())
    }

    pub fn advance(&mut self, ms: i64) {
        self.now += ms;
    }

    fn persist(&mut self, entry: Option<JournalEntry>) {
        if let Some(e) = entry {
            let bytes = e.encode();
            assert_eq!(JournalEntry::decode(&bytes).as_ref(), Ok(&e));
            self.journal.push(bytes);
        }
    }

    pub fn pump_loads(&mut self) {
        while let Some(req) = self.engine.load_request() {
            let end = (req.from + req.max_records as u64).min(req.to);
            for o in req.from..end {
                let meta = MessageMeta::decode(&self.messages[o as usize]).expect("meta");
                self.engine.load(o, &meta);
            }
            if self.engine.load_request() == Some(req) {
                break;
            }
        }
    }

    pub fn send_req(&mut self, req: SendRequest) -> Result<SendResult, Error> {
        let mut req = req;
        if req.message_id.is_empty() {
            self.next_id += 1;
            req.message_id = format!("{}-{:08}", self.identity.name, self.next_id);
        }
        match self.engine.prepare_send(req, false, self.now)? {
            Prepared::Duplicate(r) => Ok(r),
            Prepared::Append(p) => {
                let offset = self.messages.len() as u64;
                self.messages.push(p.record());
                self.engine.apply_sent(offset, &p.message.meta());
                self.pump_loads();
                Ok(p.result)
            }
        }
    }

    pub fn send(&mut self, body: &str) -> SendResult {
        self.send_req(SendRequest {
            body: body.to_owned(),
            ..Default::default()
        })
        .expect("send")
    }

    pub fn send_fifo(&mut self, body: &str, group: &str, dedup: &str) -> Result<SendResult, Error> {
        self.send_req(SendRequest {
            body: body.to_owned(),
            group_id: Some(group.to_owned()),
            dedup_id: Some(dedup.to_owned()),
            ..Default::default()
        })
    }

    /// Receives; dead-letter moves go to `dlq` when given, else are aborted.
    pub fn receive_into(
        &mut self,
        max: usize,
        vis: Option<u32>,
        attempt: Option<&str>,
        dlq: Option<&mut Sim>,
    ) -> Result<Vec<(Delivery, StoredMessage)>, Error> {
        self.pump_loads();
        let out = self.engine.receive(
            &ReceiveRequest {
                max_messages: max,
                visibility_timeout: vis,
                attempt_id: attempt.map(str::to_owned),
            },
            self.now,
        )?;
        self.persist(out.journal.clone());
        self.do_moves(out.moves, dlq);
        Ok(out
            .messages
            .into_iter()
            .map(|d| {
                let m = StoredMessage::decode(&self.messages[d.offset as usize]).expect("record");
                (d, m)
            })
            .collect())
    }

    pub fn receive(&mut self, max: usize, vis: Option<u32>) -> Vec<(Delivery, StoredMessage)> {
        self.receive_into(max, vis, None, None).expect("receive")
    }

    pub fn do_moves(&mut self, moves: Vec<MoveOut>, dlq: Option<&mut Sim>) {
        let Some(dlq) = dlq else {
            for m in moves {
                self.engine.abort_move(m.offset);
            }
            return;
        };
        for m in moves {
            let original =
                StoredMessage::decode(&self.messages[m.offset as usize]).expect("record");
            let fifo = dlq.attrs.fifo_queue;
            let moved =
                original.dead_lettered(&self.identity.arn, m.first_receive_ms, fifo, self.now);
            let pending = dlq.engine.prepare_move_in(moved);
            let off = dlq.messages.len() as u64;
            dlq.messages.push(pending.record());
            dlq.engine.apply_sent(off, &pending.message.meta());
            dlq.pump_loads();
            let entry = self.engine.complete_move(m.offset);
            self.persist(entry);
        }
    }

    pub fn delete(&mut self, handle: &str) -> Result<(), Error> {
        let e = self.engine.delete(handle, self.now)?;
        self.persist(e);
        Ok(())
    }

    pub fn change_visibility(&mut self, handle: &str, t: i64) -> Result<(), Error> {
        let e = self.engine.change_visibility(handle, t, self.now)?;
        self.persist(e);
        Ok(())
    }

    pub fn purge(&mut self) -> Result<(), Error> {
        let e = self.engine.purge(self.now)?;
        self.persist(Some(e));
        Ok(())
    }

    pub fn checkpoint(&self) -> Checkpoint {
        let c = self.engine.snapshot(self.journal.len() as u64, self.now);
        let bytes = c.encode();
        Checkpoint::decode(&bytes).expect("checkpoint decodes")
    }

    /// A new engine recovered from `checkpoint` (or from nothing) and the logs.
    pub fn recover(&self, checkpoint: Option<&Checkpoint>) -> QueueEngine {
        let empty = Checkpoint::default();
        let c = checkpoint.unwrap_or(&empty);
        let mut e = QueueEngine::restore(
            self.identity.clone(),
            self.attrs.clone(),
            self.config.clone(),
            KEY,
            c,
        );
        for bytes in &self.journal[c.journal_next as usize..] {
            e.replay(&JournalEntry::decode(bytes).expect("entry"));
        }
        for (o, bytes) in self
            .messages
            .iter()
            .enumerate()
            .skip(c.next_offset as usize)
        {
            e.apply_sent(o as u64, &MessageMeta::decode(bytes).expect("meta"));
        }
        e
    }

    /// Replaces the engine by one recovered from `checkpoint`.
    pub fn restart(&mut self, checkpoint: Option<&Checkpoint>) {
        self.engine = self.recover(checkpoint);
        self.pump_loads();
    }
}
