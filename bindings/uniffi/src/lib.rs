//! uniffi bindings for twinsync: conversion and error mapping over the facade, nothing more.

uniffi::setup_scaffolding!();
