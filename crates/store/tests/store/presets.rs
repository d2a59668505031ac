use lockstep_domain::PresetId;
use lockstep_store::StoreError;
use serde_json::{Map, Value, json};

use crate::helpers::fixture;

fn fields(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn presets_are_created_listed_updated_and_deleted() {
    let fx = fixture().await;
    let presets = || fx.store().presets();
    let p = presets()
        .create(
            fx.tenant,
            "Network team",
            &fields(json!({"assignment_group": "net"})),
        )
        .await
        .unwrap();
    presets()
        .create(fx.tenant, "apps team", &fields(json!({})))
        .await
        .unwrap();
    assert_eq!(presets().get(fx.tenant, p.id).await.unwrap(), p);

    let names: Vec<_> = presets()
        .list(fx.tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        names,
        ["apps team", "Network team"],
        "ordered by name, ignoring case"
    );

    let updated = presets()
        .update(fx.tenant, p.id, "Net", &fields(json!({"urgency": 2})))
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.fields.get("urgency")),
        ("Net", Some(&json!(2)))
    );
    assert!(updated.updated_at >= p.updated_at);

    presets().delete(fx.tenant, p.id).await.unwrap();
    assert!(matches!(
        presets().get(fx.tenant, p.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        presets().delete(fx.tenant, p.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let missing = PresetId::new();
    let err = presets()
        .update(fx.tenant, missing, "x", &Map::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), format!("preset {missing} not found"));
}

#[tokio::test]
async fn preset_names_are_unique_per_tenant_ignoring_case() {
    let fx = fixture().await;
    fx.store()
        .presets()
        .create(fx.tenant, "Default", &Map::new())
        .await
        .unwrap();
    let err = fx
        .store()
        .presets()
        .create(fx.tenant, "default", &Map::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "a preset with this name already exists");
    fx.store()
        .presets()
        .create(fx.other, "Default", &Map::new())
        .await
        .expect("names are per tenant");
}

#[tokio::test]
async fn presets_can_be_created_with_a_chosen_id_once() {
    let fx = fixture().await;
    let id = PresetId::new();
    let made = fx
        .store()
        .presets()
        .create_with_id(fx.tenant, id, "Chosen", &fields(json!({"assignee": "a"})))
        .await
        .unwrap();
    assert_eq!(made.id, id);
    let again = fx
        .store()
        .presets()
        .create_with_id(fx.tenant, id, "Other name", &fields(json!({})))
        .await;
    assert!(again.is_err(), "the id is taken: {again:?}");
}
