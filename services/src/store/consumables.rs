//! Consumables (receipt paper, A4 paper, card stock): a counter of units used since the last
//! replenish against the capacity put in, plus the printer's near-end sensor. The level is the
//! worse of the two. Crossing into `low` or `empty` queues one `consumable` event — not one per
//! receipt, and not again when a flaky sensor goes back and forth — until the next replenish.
//!
//! Units are whatever the caller counts in, the same for `consume` and `replenish`: millimetres
//! of receipt roll (one receipt ≈ its configured length), sheets, cards.

use kiosk_protocol::wire::{Consumable, ConsumableEvent, ConsumableRecord, EventKind, SupplyLevel};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use super::audit::insert_audit;
use super::faults::bad_value;
use super::outbox::insert_event;
use super::{KioskStore, StoreError, now_rfc3339, record_time, required_name};

/// One consumable's state as the diagnostics screens show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumableLevel {
    pub consumable: Consumable,
    /// The worse of the counter's level and the sensor's.
    pub level: SupplyLevel,
    /// The last near-end sensor reading since the replenish, if any.
    pub sensor_level: Option<SupplyLevel>,
    /// Units put in at the last replenish; `None` before the first one.
    pub capacity: Option<u32>,
    /// Units used since the last replenish.
    pub used_since_replenish: u64,
    /// `capacity - used`, when the capacity is known.
    pub remaining: Option<u32>,
    /// `remaining` at or below this is `low` (default: a tenth of the capacity); `0` is `empty`.
    pub low_threshold: Option<u32>,
    /// Units used over the kiosk's life.
    pub used_total: u64,
    pub replenished_at: Option<String>,
    pub replenished_by: Option<String>,
}

struct Row {
    capacity: Option<u32>,
    used_since_replenish: u64,
    used_total: u64,
    low_threshold: Option<u32>,
    sensor_level: Option<SupplyLevel>,
    /// The worst level already reported to the centre since the last replenish.
    reported_level: SupplyLevel,
    replenished_at: Option<String>,
    replenished_by: Option<String>,
}

impl Row {
    fn fresh() -> Self {
        Self {
            capacity: None,
            used_since_replenish: 0,
            used_total: 0,
            low_threshold: None,
            sensor_level: None,
            reported_level: SupplyLevel::Ok,
            replenished_at: None,
            replenished_by: None,
        }
    }

    fn level(&self, consumable: Consumable) -> ConsumableLevel {
        let low_threshold = self
            .capacity
            .map(|capacity| self.low_threshold.unwrap_or(capacity.div_ceil(10).max(1)));
        let remaining = self.capacity.map(|capacity| {
            let used = u32::try_from(self.used_since_replenish).unwrap_or(u32::MAX);
            capacity.saturating_sub(used)
        });
        let counter_level = match (remaining, low_threshold) {
            (Some(0), _) => SupplyLevel::Empty,
            (Some(remaining), Some(threshold)) if remaining <= threshold => SupplyLevel::Low,
            _ => SupplyLevel::Ok,
        };
        ConsumableLevel {
            consumable,
            level: counter_level.max(self.sensor_level.unwrap_or(SupplyLevel::Ok)),
            sensor_level: self.sensor_level,
            capacity: self.capacity,
            used_since_replenish: self.used_since_replenish,
            remaining,
            low_threshold,
            used_total: self.used_total,
            replenished_at: self.replenished_at.clone(),
            replenished_by: self.replenished_by.clone(),
        }
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn level_column(index: usize, value: Option<String>) -> rusqlite::Result<Option<SupplyLevel>> {
    value
        .map(|text| SupplyLevel::from_name(&text).ok_or_else(|| bad_value(index, "level", &text)))
        .transpose()
}

fn load(conn: &Connection, consumable: Consumable) -> Result<Row, StoreError> {
    let row = conn
        .query_row(
            "SELECT capacity, used_since_replenish, used_total, low_threshold, sensor_level,
                 reported_level, replenished_at, replenished_by
             FROM consumables WHERE consumable = ?1",
            [consumable.as_str()],
            |row| {
                Ok(Row {
                    capacity: row
                        .get::<_, Option<i64>>(0)?
                        .map(|c| u32::try_from(c.max(0)).unwrap_or(u32::MAX)),
                    used_since_replenish: row.get::<_, i64>(1)?.max(0) as u64,
                    used_total: row.get::<_, i64>(2)?.max(0) as u64,
                    low_threshold: row
                        .get::<_, Option<i64>>(3)?
                        .map(|t| u32::try_from(t.max(0)).unwrap_or(u32::MAX)),
                    sensor_level: level_column(4, row.get(4)?)?,
                    reported_level: level_column(5, Some(row.get(5)?))?.unwrap_or(SupplyLevel::Ok),
                    replenished_at: row.get(6)?,
                    replenished_by: row.get(7)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_else(Row::fresh))
}

fn save(
    tx: &Transaction<'_>,
    consumable: Consumable,
    row: &Row,
    updated_at: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO consumables (consumable, capacity, used_since_replenish, used_total,
             low_threshold, sensor_level, reported_level, replenished_at, replenished_by,
             updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (consumable) DO UPDATE SET capacity = excluded.capacity,
             used_since_replenish = excluded.used_since_replenish,
             used_total = excluded.used_total, low_threshold = excluded.low_threshold,
             sensor_level = excluded.sensor_level, reported_level = excluded.reported_level,
             replenished_at = excluded.replenished_at, replenished_by = excluded.replenished_by,
             updated_at = excluded.updated_at",
        params![
            consumable.as_str(),
            row.capacity,
            to_i64(row.used_since_replenish),
            to_i64(row.used_total),
            row.low_threshold,
            row.sensor_level.map(SupplyLevel::as_str),
            row.reported_level.as_str(),
            row.replenished_at,
            row.replenished_by,
            updated_at
        ],
    )?;
    Ok(())
}

fn queue_event(
    tx: &Transaction<'_>,
    level: &ConsumableLevel,
    event: ConsumableEvent,
    staff_id: Option<&str>,
    at: &str,
) -> Result<(), StoreError> {
    let record = ConsumableRecord {
        consumable: level.consumable,
        level: level.level,
        remaining: level.remaining,
        capacity: level.capacity,
        event,
        staff_id: staff_id.map(str::to_string),
        at: at.to_string(),
    };
    insert_event(
        tx,
        EventKind::Consumable,
        &serde_json::to_string(&record)?,
        None,
        &now_rfc3339(),
    )?;
    Ok(())
}

impl KioskStore {
    /// Counts `amount` units used. Queues a `consumable` event (`low` or `empty`) only when the
    /// level gets worse than any level already reported since the last replenish.
    pub fn consume(
        &self,
        consumable: Consumable,
        amount: u32,
        at: OffsetDateTime,
    ) -> Result<ConsumableLevel, StoreError> {
        self.change_consumable(consumable, at, |row| {
            row.used_since_replenish = row.used_since_replenish.saturating_add(amount.into());
            row.used_total = row.used_total.saturating_add(amount.into());
        })
    }

    /// Records the printer's near-end sensor (or any level a device reports). Queues a `low` or
    /// `empty` event under the same rule as [`Self::consume`].
    pub fn set_sensor_level(
        &self,
        consumable: Consumable,
        level: SupplyLevel,
        at: OffsetDateTime,
    ) -> Result<ConsumableLevel, StoreError> {
        self.change_consumable(consumable, at, |row| row.sensor_level = Some(level))
    }

    /// Sets the `low` threshold in units (`None`: a tenth of the capacity). Configuration: no
    /// event is queued, even if the level changes; the next use or sensor reading reports it.
    pub fn set_low_threshold(
        &self,
        consumable: Consumable,
        units: Option<u32>,
    ) -> Result<ConsumableLevel, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut row = load(&tx, consumable)?;
        row.low_threshold = units;
        save(&tx, consumable, &row, &now_rfc3339())?;
        tx.commit()?;
        Ok(row.level(consumable))
    }

    /// Staff refilled `consumable` to `capacity` units: the counter starts again, the sensor
    /// reading is forgotten (the next one counts), a `replenished` event is queued and the action
    /// audited (`consumable.replenish`), all in one SQLite transaction.
    pub fn replenish(
        &self,
        consumable: Consumable,
        capacity: u32,
        staff_id: &str,
        at: OffsetDateTime,
    ) -> Result<ConsumableLevel, StoreError> {
        let staff_id = required_name("a replenishment's staff id", staff_id)?;
        let at = record_time(at);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut row = load(&tx, consumable)?;
        row.capacity = Some(capacity);
        row.used_since_replenish = 0;
        row.sensor_level = None;
        row.replenished_at = Some(at.clone());
        row.replenished_by = Some(staff_id.clone());
        let level = row.level(consumable);
        row.reported_level = level.level;
        save(&tx, consumable, &row, &at)?;
        queue_event(
            &tx,
            &level,
            ConsumableEvent::Replenished,
            Some(&staff_id),
            &at,
        )?;
        insert_audit(
            &tx,
            &staff_id,
            "consumable.replenish",
            &format!("{} to {capacity} units", consumable.as_str()),
            &at,
        )?;
        tx.commit()?;
        Ok(level)
    }

    /// The state of one consumable (a fresh one if nothing was ever recorded for it).
    pub fn consumable_level(&self, consumable: Consumable) -> Result<ConsumableLevel, StoreError> {
        Ok(load(&self.lock(), consumable)?.level(consumable))
    }

    /// The state of every consumable, in [`Consumable::ALL`] order.
    pub fn consumable_levels(&self) -> Result<Vec<ConsumableLevel>, StoreError> {
        let conn = self.lock();
        Consumable::ALL
            .into_iter()
            .map(|consumable| Ok(load(&conn, consumable)?.level(consumable)))
            .collect()
    }

    fn change_consumable(
        &self,
        consumable: Consumable,
        at: OffsetDateTime,
        change: impl FnOnce(&mut Row),
    ) -> Result<ConsumableLevel, StoreError> {
        let at = record_time(at);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut row = load(&tx, consumable)?;
        change(&mut row);
        let level = row.level(consumable);
        let event = if level.level > row.reported_level {
            row.reported_level = level.level;
            match level.level {
                SupplyLevel::Empty => Some(ConsumableEvent::Empty),
                SupplyLevel::Low => Some(ConsumableEvent::Low),
                SupplyLevel::Ok => None,
            }
        } else {
            None
        };
        save(&tx, consumable, &row, &at)?;
        if let Some(event) = event {
            queue_event(&tx, &level, event, None, &at)?;
            tracing::warn!(
                consumable = consumable.as_str(),
                level = level.level.as_str(),
                "consumable running out"
            );
        }
        tx.commit()?;
        Ok(level)
    }
}
