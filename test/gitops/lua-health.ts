// Runs an Argo CD health script the way Argo CD does (util/lua in argo-cd): a fresh VM with only the package,
// base, table and os libraries (no string library unless useOpenLibs), the object as the global `obj`, and the
// script's returned table read as {status, message}. The VM is fengari (Lua 5.3); Argo CD uses gopher-lua
// (Lua 5.1), so scripts must stay in the common subset, which the tests also check.
import { lauxlib, lua, lualib, to_luastring, type LuaState } from 'fengari';

export interface HealthStatus {
  status: string;
  message?: string;
}

/** Pushes a JSON value (from a parsed Kubernetes object) as Lua: objects and arrays become tables. */
function pushValue(L: LuaState, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === 'string') lua.lua_pushstring(L, to_luastring(value));
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (typeof value === 'number') {
    if (Number.isInteger(value)) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      pushValue(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, item] of entries) {
      pushValue(L, item);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  } else {
    throw new Error(`cannot pass a ${typeof value} to Lua`);
  }
}

function stringField(L: LuaState, table: number, key: string): string | undefined {
  const type = lua.lua_getfield(L, table, to_luastring(key));
  const value = type === lua.LUA_TSTRING ? lua.lua_tojsstring(L, -1) : undefined;
  lua.lua_pop(L, 1);
  if (type !== lua.LUA_TSTRING && type !== lua.LUA_TNIL) throw new Error(`hs.${key} is not a string`);
  return value;
}

/** Evaluates the script for one object and returns its health, or throws with the Lua error. */
export function runHealthScript(script: string, object: unknown): HealthStatus {
  const L = lauxlib.luaL_newstate();
  const libraries = [
    [lualib.LUA_LOADLIBNAME, lualib.luaopen_package],
    ['_G', lualib.luaopen_base],
    [lualib.LUA_TABLIBNAME, lualib.luaopen_table],
    [lualib.LUA_OSLIBNAME, lualib.luaopen_os],
  ] as const;
  for (const [name, open] of libraries) {
    lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
    lua.lua_pop(L, 1);
  }
  pushValue(L, object);
  lua.lua_setglobal(L, to_luastring('obj'));
  const loaded = lauxlib.luaL_loadstring(L, to_luastring(script));
  if (loaded !== lua.LUA_OK) throw new Error(`health script does not compile: ${lua.lua_tojsstring(L, -1)}`);
  if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
    throw new Error(`health script failed: ${lua.lua_tojsstring(L, -1)}`);
  }
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) throw new Error('health script did not return a table');
  const status = stringField(L, -1, 'status');
  const message = stringField(L, -1, 'message');
  if (status === undefined) throw new Error('health script returned no status');
  return message === undefined ? { status } : { status, message };
}
