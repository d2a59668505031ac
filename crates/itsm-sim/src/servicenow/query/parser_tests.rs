//! Parser tests: every operator, conjunction and the platform's quirks.

use super::parser::*;

fn cond(field: &str, op: Op, value: &str) -> Term {
    Term::Cond(Condition {
        field: field.into(),
        op,
        value: value.into(),
        slot: None,
    })
}

#[test]
fn and_or_and_new_query() {
    let q = parse("active=true^state=1^ORstate=2^NQpriority<=2");
    assert_eq!(q.groups.len(), 2);
    assert_eq!(
        q.groups[0],
        vec![
            vec![cond("active", Op::Eq, "true")],
            vec![cond("state", Op::Eq, "1"), cond("state", Op::Eq, "2")],
        ]
    );
    assert_eq!(q.groups[1], vec![vec![cond("priority", Op::Le, "2")]]);
}

#[test]
fn ordering_may_repeat_and_eq_is_ignored() {
    let q = parse("active=true^EQ^ORDERBYnumber^ORDERBYDESCcategory");
    assert_eq!(q.groups, vec![vec![vec![cond("active", Op::Eq, "true")]]]);
    assert_eq!(
        q.order,
        vec![
            Order {
                field: "number".into(),
                desc: false
            },
            Order {
                field: "category".into(),
                desc: true
            },
        ]
    );
    assert!(parse("ORDERBYsys_id").is_unconditional());
}

#[test]
fn every_operator() {
    let cases = [
        ("a!=1", Op::Ne, "1"),
        ("a>1", Op::Gt, "1"),
        ("a>=1", Op::Ge, "1"),
        ("a<1", Op::Lt, "1"),
        ("a<=1", Op::Le, "1"),
        ("aLIKEfoo", Op::Like, "foo"),
        ("aNOT LIKEfoo", Op::NotLike, "foo"),
        ("a*foo", Op::Like, "foo"),
        ("a!*foo", Op::NotLike, "foo"),
        ("aSTARTSWITHfo", Op::StartsWith, "fo"),
        ("aENDSWITHoo", Op::EndsWith, "oo"),
        ("a%oo", Op::EndsWith, "oo"),
        ("aIN1,2,3", Op::In, "1,2,3"),
        ("aNOT IN1,2", Op::NotIn, "1,2"),
        ("aISEMPTY", Op::IsEmpty, ""),
        ("aISNOTEMPTY", Op::IsNotEmpty, ""),
        ("aANYTHING", Op::Anything, ""),
        ("aEMPTYSTRING", Op::EmptyString, ""),
        ("aBETWEEN1@3", Op::Between, "1@3"),
        ("aSAMEASb", Op::SameAs, "b"),
        ("aNSAMEASb", Op::NSameAs, "b"),
        ("aONToday@x@y", Op::On, "Today@x@y"),
        ("aNOTONToday@x@y", Op::NotOn, "Today@x@y"),
        ("aRELATIVEGT@hour@ago@1", Op::RelativeGt, "@hour@ago@1"),
        ("aRELATIVELE@day@ahead@2", Op::RelativeLe, "@day@ahead@2"),
        (
            "aDYNAMIC90d1921e5f510100a9ad2572f2b477fe",
            Op::Dynamic,
            "90d1921e5f510100a9ad2572f2b477fe",
        ),
    ];
    for (text, op, value) in cases {
        assert_eq!(
            parse(text).groups[0],
            vec![vec![cond("a", op, value)]],
            "{text}"
        );
    }
}

#[test]
fn dot_walk_and_underscores_stay_in_the_field_name() {
    let q = parse("assignment_group.name=Network^caller_id.email=a@b.c");
    assert_eq!(
        q.groups[0],
        vec![
            vec![cond("assignment_group.name", Op::Eq, "Network")],
            vec![cond("caller_id.email", Op::Eq, "a@b.c")],
        ]
    );
}

#[test]
fn malformed_operator_becomes_a_value_that_cannot_match() {
    // `state==1` is `state` `=` `=1`: a real field with an impossible value (0 rows, measured).
    assert_eq!(
        parse("state==1").groups[0],
        vec![vec![cond("state", Op::Eq, "=1")]]
    );
    let q = parse("state~1");
    assert!(matches!(
        &q.groups[0][0][0],
        Term::Cond(Condition {
            op: Op::Unsupported(_),
            ..
        })
    ));
    assert!(
        matches!(&parse("stateIN_HIERARCHYx").groups[0][0][0], Term::Cond(Condition { op: Op::Unsupported(u), .. }) if u == "IN_HIERARCHY")
    );
}

#[test]
fn labels_and_junk_are_invalid_terms() {
    assert!(matches!(
        &parse("Correlation ID=X").groups[0][0][0],
        Term::Invalid(_)
    ));
    assert!(matches!(&parse("active").groups[0][0][0], Term::Invalid(_)));
    assert!(parse("^^^").is_unconditional());
    assert!(parse("").is_unconditional());
}

#[test]
fn related_list_queries() {
    let q = parse("active=true^RLQUERYsys_user_has_role.user,>0^role=abc^ENDRLQUERY^ORDERBYsys_id");
    assert_eq!(q.groups[0].len(), 2);
    match &q.groups[0][1][0] {
        Term::Related(rl) => {
            assert_eq!(
                (rl.table.as_str(), rl.field.as_str(), &rl.op, rl.count),
                ("sys_user_has_role", "user", &Op::Gt, 0)
            );
            assert_eq!(rl.sub.groups[0], vec![vec![cond("role", Op::Eq, "abc")]]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(q.order.len(), 1);
    let m2m = parse("RLQUERYsys_user_has_role.user,=0,m2m^ENDRLQUERY");
    assert!(
        matches!(&m2m.groups[0][0][0], Term::Related(rl) if rl.count == 0 && rl.sub.is_unconditional())
    );
}

#[test]
fn join_takes_the_rest_but_not_the_ordering() {
    let q = parse(
        "active=true^JOINincident.caller_id=sys_user.sys_id!active=true^name=x^ORDERBYsys_id",
    );
    match &q.groups[0][1][0] {
        Term::Join(j) => {
            assert_eq!(
                (
                    j.field.as_str(),
                    j.join_table.as_str(),
                    j.join_field.as_str()
                ),
                ("caller_id", "sys_user", "sys_id")
            );
            assert_eq!(j.sub.groups[0].len(), 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        q.order,
        vec![Order {
            field: "sys_id".into(),
            desc: false
        }]
    );
}

#[test]
fn or_at_group_start_is_a_plain_condition() {
    let q = parse("ORstate=1");
    assert_eq!(q.groups[0], vec![vec![cond("state", Op::Eq, "1")]]);
}
