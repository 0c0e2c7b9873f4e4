//! Watch events (API concepts, "Efficient detection of changes"): every stored change is an event
//! with the resourceVersion it produced; a bounded history serves watches that start at an older
//! resourceVersion, and older ones get `410 Expired`, as with etcd compaction.

use serde_json::Value;
use std::collections::VecDeque;
use tokio::sync::broadcast;

/// How many past events a watch can resume from.
const HISTORY: usize = 2048;

#[derive(Debug, Clone)]
pub struct Event {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub rv: u64,
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub object: Value,
}

pub struct EventLog {
    history: VecDeque<Event>,
    tx: broadcast::Sender<Event>,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog { history: VecDeque::new(), tx: broadcast::channel(4096).0 }
    }
}

impl EventLog {
    pub fn emit(&mut self, e: Event) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(e.clone());
        // Nobody listening is fine.
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Events after `rv`, or `None` when the history no longer reaches back that far.
    pub fn since(&self, rv: u64, current: u64) -> Option<Vec<Event>> {
        if rv >= current {
            return Some(Vec::new());
        }
        match self.history.front() {
            Some(first) if first.rv <= rv + 1 => Some(self.history.iter().filter(|e| e.rv > rv).cloned().collect()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(rv: u64) -> Event {
        Event {
            kind: "ADDED",
            rv,
            group: String::new(),
            resource: "configmaps".into(),
            namespace: "default".into(),
            object: Value::Null,
        }
    }

    // API concepts "Efficient detection of changes" / "410 Gone responses": a watch resumes from any
    // resourceVersion still in the history and is told 410 Expired for older ones.
    #[test]
    fn history_window() {
        let mut log = EventLog::default();
        for rv in 10..(10 + HISTORY as u64 + 5) {
            log.emit(ev(rv));
        }
        let current = 10 + HISTORY as u64 + 4;
        assert!(log.since(12, current).is_none(), "compacted away");
        let tail = log.since(current - 2, current).unwrap();
        assert_eq!(tail.iter().map(|e| e.rv).collect::<Vec<_>>(), vec![current - 1, current]);
        assert!(log.since(current, current).unwrap().is_empty());
    }
}
