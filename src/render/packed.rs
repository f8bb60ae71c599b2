//! A render packed for keeping: each object's manifest as JSON text instead of a value tree.
//!
//! The daemon keeps every app's latest render between syncs (drift, retries and the API's
//! diff read it), but only a sync reads the manifests. As `serde_json` values they cost
//! several times their text — each map, however small, is a B-tree node of eleven slots —
//! and with 500 apps × 10 objects they were a fifth of the daemon's memory (benches/daemon).
//! Packed, the objects keep everything else as it was (stage, wave, key, and the source that
//! error messages name), so unpacking gives back the same render.

use super::{Object, Rendered, ResolvedDependency, Source, Stage};
use crate::render::ObjectKey;
use serde_json::Value;

/// A [`Rendered`] with its manifests as JSON text.
#[derive(Debug)]
pub struct PackedRender {
    /// The app's name.
    pub app: String,
    /// The namespace it deploys to.
    pub namespace: String,
    /// The profile it was rendered for.
    pub profile: Option<String>,
    /// The render's digest.
    pub digest: String,
    /// The commits `git` dependencies resolved to.
    pub dependencies: Vec<ResolvedDependency>,
    objects: Vec<PackedObject>,
}

#[derive(Debug)]
struct PackedObject {
    json: Box<str>,
    stage: Stage,
    wave: i64,
    source: Source,
    key: ObjectKey,
}

impl PackedRender {
    /// Packs a render.
    pub fn pack(rendered: &Rendered) -> PackedRender {
        let objects = rendered
            .objects
            .iter()
            .map(|o| PackedObject {
                json: o.value.to_string().into_boxed_str(),
                stage: o.stage,
                wave: o.wave,
                source: o.source.clone(),
                key: o.key.clone(),
            })
            .collect();
        PackedRender {
            app: rendered.app.clone(),
            namespace: rendered.namespace.clone(),
            profile: rendered.profile.clone(),
            digest: rendered.digest.clone(),
            dependencies: rendered.dependencies.clone(),
            objects,
        }
    }

    /// The render it was packed from.
    pub fn unpack(&self) -> Rendered {
        let objects = self
            .objects
            .iter()
            .map(|o| Object {
                value: serde_json::from_str::<Value>(&o.json)
                    .expect("a value's own JSON text reads back"),
                stage: o.stage,
                wave: o.wave,
                source: o.source.clone(),
                key: o.key.clone(),
            })
            .collect();
        Rendered {
            app: self.app.clone(),
            namespace: self.namespace.clone(),
            profile: self.profile.clone(),
            objects,
            digest: self.digest.clone(),
            dependencies: self.dependencies.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{RenderInput, render};
    use crate::source::LocalTree;

    #[test]
    fn unpacking_gives_back_the_render() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("shop");
        std::fs::create_dir_all(app.join("extra")).unwrap();
        std::fs::write(
            app.join("cetus.yaml"),
            "name: shop\nservices:\n  web: { image: \"nginx:1.27\", replicas: 2, ports: [ { port: 80 } ] }\n\
             manifests: [ extra/ ]\nprofiles:\n  prod: {}\n",
        )
        .unwrap();
        std::fs::write(
            app.join("extra/config.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: { cetus.dev/sync-wave: \"3\" }\n\
             data: { ratio: \"0.5\", empty: \"\" }\n",
        )
        .unwrap();
        let tree = LocalTree::new(dir.path()).unwrap();
        let input = RenderInput { profile: Some("prod".into()), ..RenderInput::default() };
        let rendered = render(&tree, "shop", &input).unwrap().unwrap();

        let back = PackedRender::pack(&rendered).unpack();
        assert_eq!(back.digest, rendered.digest);
        assert_eq!(back.namespace, rendered.namespace);
        assert_eq!(back.objects.len(), rendered.objects.len());
        for (a, b) in back.objects.iter().zip(&rendered.objects) {
            assert_eq!(a.value, b.value);
            assert_eq!((a.stage, a.wave, &a.key, &a.source), (b.stage, b.wave, &b.key, &b.source));
        }
        assert_eq!(crate::render::digest(&back.objects), rendered.digest);
        assert!(back.objects.iter().any(|o| o.wave == 3), "the wave survives");
    }
}
