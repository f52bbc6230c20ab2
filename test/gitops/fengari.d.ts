// The part of fengari (a Lua 5.3 VM in JavaScript; the package ships no types) that lua-health.ts uses.
declare module 'fengari' {
  export type LuaState = object & { readonly __luaState: unique symbol };
  export type LuaString = Uint8Array;
  type OpenFunction = (L: LuaState) => number;

  export const lua: {
    LUA_OK: number;
    LUA_MULTRET: number;
    LUA_TTABLE: number;
    LUA_TSTRING: number;
    LUA_TNIL: number;
    lua_pushstring(L: LuaState, s: LuaString): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushnil(L: LuaState): void;
    lua_createtable(L: LuaState, narray: number, nrec: number): void;
    lua_setfield(L: LuaState, idx: number, k: LuaString): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_setglobal(L: LuaState, name: LuaString): void;
    lua_getfield(L: LuaState, idx: number, k: LuaString): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_tojsstring(L: LuaState, idx: number): string;
    lua_type(L: LuaState, idx: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_gettop(L: LuaState): number;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, s: LuaString): number;
    luaL_requiref(L: LuaState, modname: LuaString, openf: OpenFunction, glb: number): void;
  };
  export const lualib: {
    luaopen_base: OpenFunction;
    luaopen_table: OpenFunction;
    luaopen_package: OpenFunction;
    luaopen_os: OpenFunction;
    luaopen_string: OpenFunction;
    LUA_TABLIBNAME: string;
    LUA_LOADLIBNAME: string;
    LUA_OSLIBNAME: string;
    LUA_STRLIBNAME: string;
  };
  export function to_luastring(s: string): LuaString;
  export function to_jsstring(s: LuaString): string;
}
